//! `atelier-product`: the catalogue and its stock, alone — the same as `atelier serve product`,
//! in a binary that holds this role's code only.

atelier::role_binary!(
    "atelier-product",
    product(ProductArgs),
    "Atelier's product service: the catalogue and its stock."
);
