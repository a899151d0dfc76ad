//! Input rules for the catalogue.

use atelier_proto::product as pb;
use atelier_runtime::ServiceError;

pub const MAX_PRICE_CENTS: i64 = 10_000_000;
pub const MAX_STOCK: i64 = 1_000_000;
/// Shapes Atelier draws itself (`builtin:<shape>` images).
pub use atelier_proto::GARMENT_SHAPES as SHAPES;

fn text<'a>(field: &str, s: &'a str, min: usize, max: usize) -> Result<&'a str, ServiceError> {
    let s = s.trim();
    let n = s.chars().count();
    if n < min || n > max {
        return Err(ServiceError::invalid(if min > 0 {
            format!("{field} must be {min} to {max} characters")
        } else {
            format!("{field} must be at most {max} characters")
        }));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(ServiceError::invalid(format!("{field} contains control characters")));
    }
    Ok(s)
}

pub struct ProductFields<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub category: &'a str,
    pub image: String,
}

pub fn product<'a>(
    name: &'a str,
    description: &'a str,
    category: &'a str,
    image: &str,
) -> Result<ProductFields<'a>, ServiceError> {
    Ok(ProductFields {
        name: text("name", name, 1, 80)?,
        description: text("description", description, 0, 2000)?,
        category: text("category", category, 0, 40)?,
        image: self::image(image)?,
    })
}

pub fn image(s: &str) -> Result<String, ServiceError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok("builtin:tshirt".into());
    }
    if let Some(shape) = s.strip_prefix("builtin:") {
        return if SHAPES.contains(&shape) {
            Ok(s.into())
        } else {
            Err(ServiceError::invalid(format!("unknown image shape; use one of: {}", SHAPES.join(", "))))
        };
    }
    let ok = s.starts_with("https://")
        && s.len() <= 500
        && !s.chars().any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'));
    if ok { Ok(s.into()) } else { Err(ServiceError::invalid("image must be builtin:<shape> or an https:// URL")) }
}

pub fn code(s: &str) -> Result<String, ServiceError> {
    let s = s.trim().to_uppercase();
    let ok = (2..=32).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok { Ok(s) } else { Err(ServiceError::invalid("SKU code must be 2 to 32 characters of A-Z, 0-9 or '-'")) }
}

pub fn size(size: i32) -> Result<&'static str, ServiceError> {
    crate::size_name(size).ok_or_else(|| ServiceError::invalid("size must be one of XS, S, M, L, XL, XXL"))
}

pub fn price(cents: i64) -> Result<i64, ServiceError> {
    if (0..=MAX_PRICE_CENTS).contains(&cents) {
        Ok(cents)
    } else {
        Err(ServiceError::invalid("price must be between 0 and 100000.00"))
    }
}

pub fn stock(n: i64) -> Result<i64, ServiceError> {
    if (0..=MAX_STOCK).contains(&n) {
        Ok(n)
    } else {
        Err(ServiceError::invalid(format!("stock must be between 0 and {MAX_STOCK}")))
    }
}

/// A variant ready to store.
pub struct VariantFields {
    pub code: String,
    pub size: &'static str,
    pub color: String,
    pub price_cents: i64,
    pub stock: i64,
}

pub fn variant(v: &pb::Variant) -> Result<VariantFields, ServiceError> {
    Ok(VariantFields {
        code: code(&v.code)?,
        size: size(v.size)?,
        color: text("colour", &v.color, 1, 32)?.to_string(),
        price_cents: price(v.price_cents)?,
        stock: stock(v.stock)?,
    })
}

/// URL-safe id from a product name: "Basic Cotton T-Shirt" -> "basic-cotton-t-shirt".
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { format!("p-{}", uuid::Uuid::new_v4().simple()) } else { out.chars().take(80).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_codes() {
        assert_eq!(slug("Basic Cotton T-Shirt"), "basic-cotton-t-shirt");
        assert!(slug("???").starts_with("p-"));
        assert_eq!(code(" tshirt-001 ").unwrap(), "TSHIRT-001");
        assert!(code("A").is_err());
        assert!(code("DROP TABLE;").is_err());
        assert!(image("javascript:alert(1)").is_err());
        assert!(image("builtin:hoodie").is_ok());
        assert!(price(-1).is_err());
        assert!(stock(MAX_STOCK + 1).is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn codes_are_normalised_and_safe(s in "\\PC{0,40}") {
            if let Ok(c) = code(&s) {
                prop_assert!(c.chars().all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '-'));
                prop_assert_eq!(code(&c).unwrap(), c.clone(), "idempotent");
            }
        }

        #[test]
        fn slugs_are_url_safe(s in "\\PC{0,100}") {
            let slug = slug(&s);
            prop_assert!(!slug.is_empty() && slug.len() <= 80 + 2);
            prop_assert!(slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }

        #[test]
        fn prices_and_stock_are_bounded(n in any::<i64>()) {
            prop_assert_eq!(price(n).is_ok(), (0..=MAX_PRICE_CENTS).contains(&n));
            prop_assert_eq!(stock(n).is_ok(), (0..=MAX_STOCK).contains(&n));
        }

        #[test]
        fn images_are_builtin_or_https(s in "\\PC{0,80}") {
            if let Ok(i) = image(&s) {
                prop_assert!(i.starts_with("builtin:") || i.starts_with("https://"));
                prop_assert!(!i.contains(['"', '<', '>']));
            }
        }
    }
}
