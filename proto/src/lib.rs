//! The Atelier gRPC protocol: generated messages, clients and servers.

pub mod auth {
    tonic::include_proto!("atelier.auth.v1");
}
pub mod product {
    tonic::include_proto!("atelier.product.v1");
}
pub mod cart {
    tonic::include_proto!("atelier.cart.v1");
}
pub mod order {
    tonic::include_proto!("atelier.order.v1");
}

/// The garments Atelier draws itself: a product's image `builtin:<shape>`.
/// The product service accepts these, the gateway draws each of them.
pub const GARMENT_SHAPES: [&str; 19] = [
    "tshirt", "shirt", "jeans", "chinos", "shorts", "hoodie", "sweater", "cardigan", "jacket", "puffer", "blazer",
    "coat", "overcoat", "trench", "dress", "skirt", "cap", "beanie", "socks",
];

/// Encoded descriptors of every Atelier service, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("atelier_descriptor");
