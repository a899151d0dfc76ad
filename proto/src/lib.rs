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

/// Encoded descriptors of every Atelier service, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("atelier_descriptor");
