//! The order life cycle.

use atelier_proto::order::Status;

pub fn name(s: Status) -> &'static str {
    match s {
        Status::Processing => "PROCESSING",
        Status::Shipped => "SHIPPED",
        Status::Delivered => "DELIVERED",
        Status::Canceled => "CANCELED",
        Status::Unspecified => "PENDING",
    }
}

pub fn parse(s: &str) -> Status {
    match s {
        "PROCESSING" => Status::Processing,
        "SHIPPED" => Status::Shipped,
        "DELIVERED" => Status::Delivered,
        "CANCELED" => Status::Canceled,
        _ => Status::Unspecified,
    }
}

/// PROCESSING -> SHIPPED | CANCELED; SHIPPED -> DELIVERED | CANCELED.
pub fn can_move(from: Status, to: Status) -> bool {
    matches!(
        (from, to),
        (Status::Processing, Status::Shipped | Status::Canceled)
            | (Status::Shipped, Status::Delivered | Status::Canceled)
    )
}

/// Who may cancel: the customer while the order is still being processed
/// (nothing has left the warehouse); once shipped, only an admin, who
/// records that the goods came back, which puts them back on the shelf.
pub fn cancelable_by_customer(from: Status) -> bool {
    from == Status::Processing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn life_cycle() {
        assert!(can_move(Status::Processing, Status::Shipped));
        assert!(can_move(Status::Shipped, Status::Canceled));
        assert!(!can_move(Status::Processing, Status::Delivered));
        assert!(!can_move(Status::Delivered, Status::Canceled));
        assert!(!can_move(Status::Canceled, Status::Processing));
        for s in [Status::Processing, Status::Shipped, Status::Delivered, Status::Canceled] {
            assert_eq!(parse(name(s)), s);
        }
    }
}
