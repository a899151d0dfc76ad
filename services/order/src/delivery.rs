//! Delivery methods, their prices and the address rules of an order.

use atelier_proto::order::{self as pb, Delivery};
use atelier_runtime::{ServiceError, error::one_line};

pub use atelier_proto::delivery::price;

/// The stored name of a delivery method (unspecified is standard).
pub fn name(delivery: Delivery) -> &'static str {
    match delivery {
        Delivery::Express => "EXPRESS",
        _ => "STANDARD",
    }
}

pub fn parse(name: &str) -> Delivery {
    match name {
        "EXPRESS" => Delivery::Express,
        "STANDARD" => Delivery::Standard,
        _ => Delivery::Unspecified,
    }
}

/// Every field of the delivery address checked at once.
pub fn check_address(a: Option<&pb::ShippingAddress>) -> Option<tonic::Status> {
    let Some(a) = a else {
        return atelier_runtime::error::invalid_fields(&[(
            "address",
            Err(ServiceError::invalid("a delivery address is required")),
        )]);
    };
    atelier_runtime::error::invalid_fields(&[
        ("address.name", one_line("name", &a.name, 1, 80)),
        ("address.line1", one_line("address", &a.line1, 1, 120)),
        ("address.line2", one_line("second address line", &a.line2, 0, 120)),
        ("address.postcode", one_line("postcode", &a.postcode, 2, 12)),
        ("address.city", one_line("city", &a.city, 1, 80)),
        ("address.country", one_line("country", &a.country, 2, 56)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_is_free_from_100_euros_express_never() {
        assert_eq!(price(Delivery::Standard, 9_999), 495);
        assert_eq!(price(Delivery::Unspecified, 10_000), 0);
        assert_eq!(price(Delivery::Express, 50_000), 995);
    }
}
