//! Catalogue deletions, shared by the web site and the JSON API: the product
//! service deletes, then every cart drops the SKUs. Carts also drop unknown
//! SKUs when next read, so the second step failing is logged, not fatal.

use crate::{AppState, session::CurrentUser, session::as_user};
use atelier_proto::{cart::RemoveCodesEverywhereRequest, product};
use tonic::Status;

pub async fn delete_product(state: &AppState, admin: &CurrentUser, id: String) -> Result<(), Status> {
    let request = as_user(admin, product::DeleteProductRequest { id });
    let codes = state.clients.product.clone().delete_product(request).await?.into_inner().codes;
    remove_from_carts(state, admin, codes).await;
    Ok(())
}

pub async fn delete_variant(state: &AppState, admin: &CurrentUser, code: String) -> Result<(), Status> {
    let request = as_user(admin, product::DeleteVariantRequest { code: code.clone() });
    state.clients.product.clone().delete_variant(request).await?;
    remove_from_carts(state, admin, vec![code]).await;
    Ok(())
}

async fn remove_from_carts(state: &AppState, admin: &CurrentUser, codes: Vec<String>) {
    let request = as_user(admin, RemoveCodesEverywhereRequest { codes });
    if let Err(s) = state.clients.cart.clone().remove_codes_everywhere(request).await {
        tracing::warn!(error = %s, "could not remove deleted SKUs from carts now; carts drop them when next read");
    }
}
