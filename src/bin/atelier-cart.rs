//! `atelier-cart`: shopping carts, alone — the same as `atelier serve cart`,
//! in a binary that holds this role's code only.

atelier::role_binary!("atelier-cart", cart(CartArgs), "Atelier's cart service: shopping carts.");
