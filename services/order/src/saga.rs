//! Checkout as a saga: claim the idempotency key → read the cart as stored
//! and claim its revision → reserve stock at the prices the shopper saw
//! (the reservation checks stock and prices; when it refuses, the cart is
//! read again, checked against the catalogue, to tell why) → confirm the
//! reservation → store the order → take what was bought out of the cart. A
//! failure after the reservation releases it; a crash leaves a PENDING order
//! that recovery releases, and an unconfirmed reservation that the product
//! service expires by itself.

use crate::{OrderService, store};
use atelier_proto::{
    cart::{BoughtLine, ClearCartRequest, GetCartRequest},
    order as pb,
    product::{ConfirmRequest, ReleaseRequest, ReserveLine, ReserveRequest},
};
use atelier_runtime::{Identity, ServiceError, error::ServiceResult, identity::authorized};
use std::time::Duration;
use tonic::Code;

impl OrderService {
    pub(crate) async fn release_stock(&self, order_id: &str) -> ServiceResult<bool> {
        let request = authorized(ReleaseRequest { order_id: order_id.into() }, &self.service_token());
        Ok(self.products.clone().release(request).await?.into_inner().released)
    }

    /// Waits for order `id` to leave PENDING: the order once placed (or
    /// moved on), None when its checkout gave up.
    async fn outcome(&self, id: &str) -> ServiceResult<Option<pb::Order>> {
        for _ in 0..200 {
            match store::get(&self.pool, id).await? {
                None => return Ok(None),
                Some((order, raw)) if raw != "PENDING" => return Ok(Some(order)),
                Some(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        Err(ServiceError::Aborted("this order is still being placed; try again".into()))
    }

    /// Waits for a concurrent request with the same key to finish placing it.
    async fn placed_by_other(&self, caller: &Identity, key: &str) -> ServiceResult<Option<pb::Order>> {
        match store::id_by_key(&self.pool, &caller.sub, key).await? {
            Some(id) => self.outcome(&id).await,
            None => Ok(None), // the other attempt failed and gave the key back
        }
    }

    /// The caller's cart: as stored, or checked against the catalogue (with
    /// its notices).
    async fn cart(&self, user_token: &str, as_stored: bool) -> ServiceResult<atelier_proto::cart::Cart> {
        let cart = self.carts.clone().get_cart(authorized(GetCartRequest { as_stored }, user_token)).await?;
        Ok(cart.into_inner().cart.unwrap_or_default())
    }

    /// Why the catalogue refused the cart's lines: the changes the checked
    /// cart reports (a price moved, stock went down, an SKU is gone), else
    /// the refusal itself.
    async fn refusal(&self, user_token: &str, refused: ServiceError) -> ServiceError {
        match self.cart(user_token, false).await {
            Ok(cart) if !cart.notices.is_empty() => unbuyable(cart),
            _ => refused,
        }
    }

    pub(crate) async fn place_order(
        &self,
        caller: &Identity,
        user_token: &str,
        key: &str,
        address: &pb::ShippingAddress,
        delivery: pb::Delivery,
    ) -> ServiceResult<pb::Order> {
        let order_id = uuid::Uuid::now_v7().to_string();
        loop {
            let cart = self.cart(user_token, true).await?;
            if !cart.notices.is_empty() || cart.lines.is_empty() {
                // A retry of a checkout that went through finds the cart
                // emptied by it: it gets that order.
                if let Some(order) = self.placed_by_other(caller, key).await? {
                    return Ok(order);
                }
                return Err(unbuyable(cart));
            }
            let claim = store::Claim {
                user_id: &caller.sub,
                username: &caller.name,
                key,
                cart_revision: cart.revision,
                address,
                delivery,
            };
            match store::claim(&self.pool, &order_id, &claim).await? {
                // fill_order removes the PENDING claim itself when it fails,
                // and only once no stock can still be held for it.
                store::Claimed::Ours => return self.fill_order(&order_id, &cart, user_token, delivery).await,
                store::Claimed::ByKey(holder) => {
                    if let Some(order) = self.outcome(&holder).await? {
                        return Ok(order);
                    }
                }
                // One cart revision, one order: another checkout of the same
                // cart (a second tab, another key) answers with the order it became.
                store::Claimed::ByCart(holder) => {
                    let busy =
                        ServiceError::Aborted("this cart is being ordered by another checkout; try again".into());
                    return self.outcome(&holder).await?.ok_or(busy);
                }
                store::Claimed::Gone => {}
            }
        }
    }

    async fn fill_order(
        &self,
        order_id: &str,
        cart: &atelier_proto::cart::Cart,
        user_token: &str,
        delivery: pb::Delivery,
    ) -> ServiceResult<pb::Order> {
        let lines = cart
            .lines
            .iter()
            .map(|l| ReserveLine {
                code: l.code.clone(),
                quantity: l.quantity,
                unit_price_cents: Some(l.unit_price_cents),
            })
            .collect();
        let reserve = authorized(ReserveRequest { order_id: order_id.into(), lines }, &self.service_token());
        let reserved = match self.products.clone().reserve(reserve).await {
            Ok(r) => r.into_inner().lines,
            Err(s) if matches!(s.code(), Code::FailedPrecondition | Code::InvalidArgument | Code::NotFound) => {
                atelier_runtime::metrics::count("atelier_stock_rejections_total");
                let refused = self.give_up(order_id, s.into()).await;
                return Err(self.refusal(user_token, refused).await);
            }
            // The reservation may have happened before the error: undo it.
            Err(s) => return Err(self.release_and_give_up(order_id, s.into()).await),
        };
        if crash_after_reserve_requested() {
            tracing::error!(order_id, "ATELIER_FAULT_CRASH_AFTER_RESERVE set: aborting");
            std::process::abort();
        }
        // Confirmed, the reservation no longer expires; one that expired or
        // was released by recovery meanwhile fails the checkout here, before
        // an order exists without its stock.
        let confirm = authorized(ConfirmRequest { order_id: order_id.into() }, &self.service_token());
        match self.products.clone().confirm(confirm).await {
            Ok(_) => {}
            Err(s) if s.code() == Code::FailedPrecondition => {
                tracing::warn!(order_id, "the reservation went back before the order was stored");
                let e = ServiceError::Unavailable("the checkout took too long; please try again".into());
                return Err(self.give_up(order_id, e).await);
            }
            Err(s) => return Err(self.release_and_give_up(order_id, s.into()).await),
        }
        let completed = store::complete(&self.pool, order_id, &reserved, delivery).await;
        self.counts.forget();
        let order = match completed {
            Ok(order) => order,
            // The commit may have happened with its answer lost (a database
            // crash): release only an order known to be still PENDING.
            Err(e) => {
                return match store::get(&self.pool, order_id).await {
                    Ok(Some((order, raw))) if raw != "PENDING" => Ok(order),
                    Ok(_) => Err(self.release_and_give_up(order_id, e).await),
                    Err(_) => {
                        tracing::warn!(order_id, error = %e, "order state unknown; recovery will settle it");
                        Err(ServiceError::Unavailable("the order could not be placed; please try again".into()))
                    }
                };
            }
        };
        // What was bought leaves the cart; anything added meanwhile stays.
        let bought = cart.lines.iter().map(|l| BoughtLine { code: l.code.clone(), quantity: l.quantity }).collect();
        if let Err(s) =
            self.carts.clone().clear_cart(authorized(ClearCartRequest { bought, without_cart: true }, user_token)).await
        {
            // The order stands; a cart left full is an inconvenience, not a loss.
            tracing::warn!(order_id, error = %s, "could not clear the cart after checkout");
        }
        tracing::info!(order_id, "order placed");
        atelier_runtime::metrics::count("atelier_orders_placed_total");
        Ok(order)
    }

    /// Gives the idempotency key back when nothing was reserved. If even that
    /// fails, recovery removes the PENDING claim later.
    async fn give_up(&self, order_id: &str, error: ServiceError) -> ServiceError {
        if let Err(e) = store::drop_pending(&self.pool, order_id).await {
            tracing::warn!(order_id, error = %e, "could not drop the pending order; recovery will");
        }
        error
    }

    /// Releases what may be reserved, then gives the key back. If the release
    /// fails, the PENDING claim must stay: it is how recovery finds the stock.
    async fn release_and_give_up(&self, order_id: &str, error: ServiceError) -> ServiceError {
        match self.release_stock(order_id).await {
            Ok(_) => self.give_up(order_id, error).await,
            Err(e) => {
                tracing::warn!(order_id, error = %e, "release failed; recovery will retry");
                ServiceError::Unavailable("the order could not be placed; please try again".into())
            }
        }
    }

    /// Moves an order to CANCELED (if `from` still holds) and puts its stock
    /// back; if the release fails now, recovery does it later, once.
    pub(crate) async fn cancel(&self, order_id: &str, from: pb::Status) -> ServiceResult<bool> {
        if !store::transition(&self.pool, order_id, from, pb::Status::Canceled).await? {
            return Ok(false);
        }
        self.counts.forget();
        match self.release_stock(order_id).await {
            Ok(_) => store::mark_released(&self.pool, order_id).await?,
            Err(e) => {
                tracing::warn!(order_id, error = %e, "stock release after cancel failed; recovery will retry")
            }
        }
        tracing::info!(order_id, "order canceled");
        atelier_runtime::metrics::count("atelier_orders_canceled_total");
        Ok(true)
    }
}

/// Why a cart cannot be ordered as it is: it changed since the shopper last
/// saw it (prices, stock or the catalogue; nothing is charged before they
/// see it again), or it is empty.
fn unbuyable(cart: atelier_proto::cart::Cart) -> ServiceError {
    if cart.notices.is_empty() {
        return ServiceError::FailedPrecondition("your cart is empty".into());
    }
    let changes: Vec<String> = cart.notices.into_iter().map(|n| n.message).collect();
    ServiceError::FailedPrecondition(format!("your cart changed, please review it: {}", changes.join(" ")))
}

/// Fault injection for the recovery tests (die mid-saga, between reserve and
/// complete): read once, and compiled into debug builds only, so a release
/// build has no such path whatever its environment says.
#[cfg(debug_assertions)]
fn crash_after_reserve_requested() -> bool {
    static REQUESTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *REQUESTED.get_or_init(|| std::env::var_os("ATELIER_FAULT_CRASH_AFTER_RESERVE").is_some())
}

#[cfg(not(debug_assertions))]
const fn crash_after_reserve_requested() -> bool {
    false
}
