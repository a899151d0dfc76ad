//! Formatting shared by pages and API: money, dates, sizes, statuses.

use atelier_proto::{order::Status, product::Size};

/// 2499 -> "€24.99"
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}€{}.{:02}", c / 100, c % 100)
}

/// "24.99" or "24" -> 2499; None when it is not an amount.
pub fn parse_money(s: &str) -> Option<i64> {
    let s = s.trim().trim_start_matches('€').replace(',', ".");
    if s.is_empty() || s.starts_with('-') || s.starts_with('+') {
        return None;
    }
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.len() > 7
        || frac.len() > 2
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    Some(whole * 100 + frac)
}

pub fn date(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!("[day] [month repr:short] [year], [hour]:[minute] UTC")).ok()
        })
        .unwrap_or_default()
}

pub fn size_name(size: i32) -> &'static str {
    match Size::try_from(size) {
        Ok(Size::Xs) => "XS",
        Ok(Size::S) => "S",
        Ok(Size::M) => "M",
        Ok(Size::L) => "L",
        Ok(Size::Xl) => "XL",
        Ok(Size::Xxl) => "XXL",
        _ => "",
    }
}

pub fn parse_size(s: &str) -> Option<Size> {
    Some(match s.trim().to_uppercase().as_str() {
        "XS" => Size::Xs,
        "S" => Size::S,
        "M" => Size::M,
        "L" => Size::L,
        "XL" => Size::Xl,
        "XXL" => Size::Xxl,
        _ => return None,
    })
}

pub const SIZES: [&str; 6] = ["XS", "S", "M", "L", "XL", "XXL"];

pub fn status_name(status: i32) -> &'static str {
    match Status::try_from(status) {
        Ok(Status::Processing) => "processing",
        Ok(Status::Shipped) => "shipped",
        Ok(Status::Delivered) => "delivered",
        Ok(Status::Canceled) => "canceled",
        _ => "unknown",
    }
}

pub fn parse_status(s: &str) -> Option<Status> {
    Some(match s.trim().to_lowercase().as_str() {
        "processing" => Status::Processing,
        "shipped" => Status::Shipped,
        "delivered" => Status::Delivered,
        "canceled" | "cancelled" => Status::Canceled,
        _ => return None,
    })
}

/// Statuses an admin may move an order to next (never cancel here).
/// What an admin may move an order to next: (status, button label). A
/// shipped order is canceled only when its goods came back.
pub fn next_statuses(status: i32) -> Vec<(&'static str, &'static str)> {
    match Status::try_from(status) {
        Ok(Status::Processing) => vec![("shipped", "Mark as shipped")],
        Ok(Status::Shipped) => {
            vec![("delivered", "Mark as delivered"), ("canceled", "Goods returned: cancel and restock")]
        }
        _ => vec![],
    }
}

/// How people see an order: its number (A-10042), or, for an order placed
/// before numbers existed, the end of its id.
pub fn order_label(number: i64, id: &str) -> String {
    if number > 0 {
        format!("A-{number}")
    } else {
        let tail: String = id.chars().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect();
        format!("#{}", tail.to_uppercase())
    }
}

/// An image URL for a product's `image` field and a colour.
pub fn image_url(image: &str, color: &str) -> String {
    match image.strip_prefix("builtin:") {
        Some(shape) => format!("/img/{shape}.svg?color={}", urlencode(color)),
        None => image.to_string(),
    }
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|e| e[1..].to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_called_by_their_number() {
        assert_eq!(order_label(10042, "0b6f0a3e-58b0-4dc5-9a7e-1f2e3d4c5b6a"), "A-10042");
        assert_eq!(order_label(0, "0b6f0a3e-58b0-4dc5-9a7e-1f2e3d4c5b6a"), "#3D4C5B6A");
    }

    #[test]
    fn money_round_trips() {
        assert_eq!(money(2499), "€24.99");
        assert_eq!(money(5), "€0.05");
        assert_eq!(parse_money("24.99"), Some(2499));
        assert_eq!(parse_money("24.9"), Some(2490));
        assert_eq!(parse_money("24"), Some(2400));
        assert_eq!(parse_money("€1,50"), Some(150));
        for bad in ["", "-1", "1.234", "abc", "1e5", "99999999"] {
            assert_eq!(parse_money(bad), None, "{bad}");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn money_formats_and_parses_back(cents in 0i64..1_000_000_000) {
            prop_assert_eq!(parse_money(&money(cents)), Some(cents));
        }

        #[test]
        fn parsing_never_panics_and_is_never_negative(s in "\\PC{0,20}") {
            if let Some(c) = parse_money(&s) {
                prop_assert!(c >= 0);
            }
        }
    }
}
