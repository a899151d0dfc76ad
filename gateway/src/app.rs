//! The application layer both faces call: the web pages and the JSON API
//! parse and limit listings the same way, agree on which service refusals
//! are the user's doing, and run the same admin actions.

use crate::{session::CurrentUser, session::as_user, state::AppState};
use atelier_proto::product;
use tonic::{Code, Status};

/// The highest page number any listing serves, on the site and in the API:
/// a million orders at the smallest page size, and `page × per_page` still
/// fits a `u32`.
pub const MAX_PAGE: u32 = 1_000_000;
/// The most items one page may hold.
pub const MAX_PER_PAGE: u32 = 100;

/// A page number and size within the limits; out-of-range values are
/// brought back in range rather than refused (a hand-edited URL still works).
pub fn paging(page: Option<u32>, per_page: Option<u32>, default_per_page: u32) -> (u32, u32) {
    (page_number(page), per_page.unwrap_or(default_per_page).clamp(1, MAX_PER_PAGE))
}

/// A page number within the limits (the site's pages have a fixed size).
pub fn page_number(page: Option<u32>) -> u32 {
    page.unwrap_or(1).clamp(1, MAX_PAGE)
}

/// A catalogue sort by its name in URLs and the API.
pub fn sort(name: &str) -> Option<product::Sort> {
    match name {
        // Best match for a text query, by name otherwise.
        "" => Some(product::Sort::Unspecified),
        "relevance" => Some(product::Sort::Relevance),
        "name" => Some(product::Sort::Name),
        "price_asc" => Some(product::Sort::PriceAsc),
        "price_desc" => Some(product::Sort::PriceDesc),
        "newest" => Some(product::Sort::Newest),
        _ => None,
    }
}

/// A catalogue listing, already understood by the face that received it.
#[derive(Debug, Default, Clone)]
pub struct CatalogueFilter {
    pub query: String,
    pub category: String,
    pub size: i32,
    pub color: String,
    pub min_price_cents: Option<i64>,
    pub max_price_cents: Option<i64>,
    pub in_stock: bool,
    pub sort: product::Sort,
}

impl CatalogueFilter {
    /// The product service request for one page, with text fields cut to
    /// the lengths the service indexes.
    pub fn request(self, page: u32, per_page: u32) -> product::ListProductsRequest {
        product::ListProductsRequest {
            query: self.query.chars().take(100).collect(),
            category: self.category.chars().take(40).collect(),
            size: self.size,
            color: self.color.chars().take(32).collect(),
            min_price_cents: self.min_price_cents,
            max_price_cents: self.max_price_cents,
            in_stock: self.in_stock,
            sort: self.sort as i32,
            page,
            per_page,
            cards: false,
        }
    }
}

/// True when a service refused because of what the user sent or asked for
/// (bad input, a rule of the shop, something changed meanwhile): a form
/// shows the service's words, the API answers 4xx. Not found and permission
/// denied are answers about access (a 404 or 403 page), unless a page knows
/// better (see [`is_refusal`]); anything else means something is broken.
pub fn is_user_fault(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::InvalidArgument | Code::FailedPrecondition | Code::AlreadyExists | Code::OutOfRange | Code::Aborted
    )
}

/// For an admin's action on something they can see, a missing target or a
/// rule such as "not your own role" is a refusal to explain, not an error page.
pub fn is_refusal(status: &Status) -> bool {
    is_user_fault(status) || matches!(status.code(), Code::NotFound | Code::PermissionDenied)
}

/// Deletes a product. Carts drop its SKUs themselves (with a notice to the
/// shopper) when next read: no clean-up across services.
pub async fn delete_product(state: &AppState, admin: &CurrentUser, id: String) -> Result<(), Status> {
    state.clients.product.clone().delete_product(as_user(admin, product::DeleteProductRequest { id })).await?;
    Ok(())
}

/// Deletes one variant; carts drop it when next read.
pub async fn delete_variant(state: &AppState, admin: &CurrentUser, code: String) -> Result<(), Status> {
    state.clients.product.clone().delete_variant(as_user(admin, product::DeleteVariantRequest { code })).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_faces_share_one_set_of_limits() {
        assert_eq!(paging(None, None, 12), (1, 12));
        assert_eq!(paging(Some(0), Some(0), 12), (1, 1));
        assert_eq!(paging(Some(u32::MAX), Some(5_000), 20), (MAX_PAGE, MAX_PER_PAGE));
        assert_eq!(sort("price_desc"), Some(product::Sort::PriceDesc));
        assert_eq!(sort(""), Some(product::Sort::Unspecified));
        assert_eq!(sort("cheapest"), None);
        assert!(is_user_fault(&Status::failed_precondition("only 2 in stock")));
        assert!(!is_user_fault(&Status::permission_denied("not yours")) && is_refusal(&Status::not_found("gone")));
        assert!(!is_user_fault(&Status::unavailable("down")));
        // The API agrees: every refusal that is the user's doing is a 4xx.
        for code in 0..=16 {
            let status = Status::new(Code::from_i32(code), "x");
            if is_refusal(&status) {
                assert!(crate::error::http_status(&status).is_client_error(), "{:?}", status.code());
            }
        }
    }
}
