//! Delivery methods, their prices and the address rules of an order.

use atelier_proto::order::{self as pb, Delivery};
use atelier_runtime::ServiceError;

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

fn line(what: &str, s: &str, min: usize, max: usize) -> Result<(), ServiceError> {
    let n = s.trim().chars().count();
    if n < min {
        Err(ServiceError::invalid(format!("{what} is required")))
    } else if n > max || s.chars().any(char::is_control) {
        Err(ServiceError::invalid(format!("{what} must be at most {max} characters, on one line")))
    } else {
        Ok(())
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
        ("address.name", line("name", &a.name, 1, 80)),
        ("address.line1", line("address", &a.line1, 1, 120)),
        ("address.line2", line("second address line", &a.line2, 0, 120)),
        ("address.postcode", line("postcode", &a.postcode, 2, 12)),
        ("address.city", line("city", &a.city, 1, 80)),
        ("address.country", line("country", &a.country, 2, 56)),
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
