//! `atelier-order`: checkout and the order life cycle, alone — the same as `atelier serve order`,
//! in a binary that holds this role's code only.

atelier::role_binary!("atelier-order", order(OrderArgs), "Atelier's order service: checkout and the order life cycle.");
