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

/// `ATELIER_TIME_ZONE`: the shop's time zone (an IANA name such as
/// Europe/Rome), in which every date is shown. Default UTC.
pub const TIME_ZONE_VARIABLE: &str = "ATELIER_TIME_ZONE";

static TIME_ZONE: std::sync::OnceLock<jiff::tz::TimeZone> = std::sync::OnceLock::new();

/// The shop's time zone from the environment (UTC when unset).
pub fn time_zone_from_env() -> anyhow::Result<jiff::tz::TimeZone> {
    match std::env::var(TIME_ZONE_VARIABLE) {
        Ok(name) if !name.trim().is_empty() => time_zone(&name),
        _ => Ok(jiff::tz::TimeZone::UTC),
    }
}

/// A time zone by its IANA name; anything else is refused with what was expected.
pub fn time_zone(name: &str) -> anyhow::Result<jiff::tz::TimeZone> {
    jiff::tz::TimeZone::get(name.trim()).map_err(|_| {
        anyhow::anyhow!("{TIME_ZONE_VARIABLE}={name:?} is not a time zone (an IANA name such as Europe/Rome)")
    })
}

/// Sets the zone dates are shown in: once per process, at start-up (one
/// gateway process serves one shop).
pub fn set_time_zone(tz: jiff::tz::TimeZone) {
    let _ = TIME_ZONE.set(tz);
}

/// "2 Dec 2026, 10:15 CET": a moment in the shop's time zone.
pub fn date(ms: i64) -> String {
    date_in(ms, TIME_ZONE.get().unwrap_or(&jiff::tz::TimeZone::UTC))
}

/// Midnight today and midnight last Monday in the shop's time zone (ms):
/// where "today" and "this week" begin for the shop.
pub fn today_and_week_start(now_ms: i64) -> (i64, i64) {
    let tz = TIME_ZONE.get().cloned().unwrap_or(jiff::tz::TimeZone::UTC);
    day_and_week_start_in(now_ms, &tz)
}

pub fn day_and_week_start_in(now_ms: i64, tz: &jiff::tz::TimeZone) -> (i64, i64) {
    let starts = || -> Result<(i64, i64), jiff::Error> {
        let today = jiff::Timestamp::from_millisecond(now_ms)?.to_zoned(tz.clone()).start_of_day()?;
        let since_monday = i64::from(today.weekday().to_monday_zero_offset());
        let monday = today.checked_sub(jiff::Span::new().days(since_monday))?.start_of_day()?;
        Ok((today.timestamp().as_millisecond(), monday.timestamp().as_millisecond()))
    };
    starts().unwrap_or((now_ms - 24 * 3600 * 1000, now_ms - 7 * 24 * 3600 * 1000))
}

pub fn date_in(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(tz.clone()).strftime("%-d %b %Y, %H:%M %Z").to_string())
        .unwrap_or_default()
}

pub fn size_name(size: i32) -> &'static str {
    Size::label_of(size)
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

#[cfg(test)]
mod time_zones {
    use super::*;

    #[test]
    fn dates_are_shown_in_the_shops_time_zone() {
        // 2 Dec 2026 09:15 UTC; Rome is an hour ahead in winter, two in summer.
        let winter = 1_796_202_900_000;
        assert_eq!(date_in(winter, &time_zone("UTC").unwrap()), "2 Dec 2026, 09:15 UTC");
        assert_eq!(date_in(winter, &time_zone("Europe/Rome").unwrap()), "2 Dec 2026, 10:15 CET");
        let summer = winter - 150 * 24 * 3600 * 1000;
        assert_eq!(date_in(summer, &time_zone("Europe/Rome").unwrap()), "5 Jul 2026, 11:15 CEST");
        // "Today" and "this week" begin at the shop's midnights: Wednesday
        // 2 Dec 2026 09:15 UTC is 10:15 in Rome, whose day began at 23:00
        // UTC the day before, and whose week began on Monday 30 Nov.
        let (day, week) = day_and_week_start_in(winter, &time_zone("Europe/Rome").unwrap());
        assert_eq!((winter - day) / 60_000, 10 * 60 + 15);
        assert_eq!((day - week) / 3_600_000, 48);
        let refused = time_zone("Europe/Rom").unwrap_err().to_string();
        assert!(refused.contains("is not a time zone") && refused.contains("Europe/Rome"), "{refused}");
    }
}
