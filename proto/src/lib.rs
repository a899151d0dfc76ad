//! The Atelier gRPC protocol: generated messages, clients and servers.

pub mod auth {
    tonic::include_proto!("atelier.auth.v1");
}
pub mod product {
    tonic::include_proto!("atelier.product.v1");

    impl Size {
        /// The size as shoppers read it: "M" for `SIZE_M`; empty when
        /// unspecified or for a number no size has.
        pub fn label_of(size: i32) -> &'static str {
            match Size::try_from(size) {
                Ok(Size::Unspecified) | Err(_) => "",
                Ok(s) => s.as_str_name().trim_start_matches("SIZE_"),
            }
        }
    }
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

/// Delivery methods as the order service charges them (the proto's
/// `Delivery` documents the same): what checkout pages show is what orders
/// cost.
pub mod delivery {
    use crate::order::Delivery;

    /// Standard delivery is free for goods of at least this much.
    pub const FREE_STANDARD_FROM_CENTS: i64 = 10_000;

    /// (method, name, how long it takes), in the order offered.
    pub const OPTIONS: [(Delivery, &str, &str); 2] =
        [(Delivery::Standard, "Standard", "3–5 working days"), (Delivery::Express, "Express", "1–2 working days")];

    /// The price of `delivery` (unspecified is standard) for goods worth `goods_cents`.
    pub fn price(delivery: Delivery, goods_cents: i64) -> i64 {
        match delivery {
            Delivery::Express => 995,
            _ if goods_cents >= FREE_STANDARD_FROM_CENTS => 0,
            _ => 495,
        }
    }
}

/// Encoded descriptors of every Atelier service, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("atelier_descriptor");

#[cfg(test)]
mod tests {
    use crate::product::Size;

    #[test]
    fn sizes_read_as_shoppers_write_them() {
        assert_eq!(Size::label_of(Size::M as i32), "M");
        assert_eq!(Size::label_of(Size::Xxl as i32), "XXL");
        assert_eq!(Size::label_of(Size::Unspecified as i32), "");
        assert_eq!(Size::label_of(99), "");
    }
}
