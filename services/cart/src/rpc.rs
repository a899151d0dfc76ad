//! The gRPC face of the cart service.

use crate::{CartService, MAX_QUANTITY, store};
use atelier_proto::{
    cart::{self as pb, cart_service_server::CartService as Rpc},
    product::{GetVariantsRequest, Size, VariantInfo},
};
use atelier_runtime::{Identity, Role, ServiceError};
use std::collections::HashMap;
use tonic::{Request, Response, Status};

type RpcResult<T> = Result<Response<T>, Status>;

fn code(s: &str) -> Result<String, Status> {
    let s = s.trim().to_uppercase();
    let ok = (2..=32).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok { Ok(s) } else { Err(Status::invalid_argument("SKU code must be 2 to 32 characters of A-Z, 0-9 or '-'")) }
}

fn describe(v: &VariantInfo) -> String {
    let variant = v.variant.clone().unwrap_or_default();
    format!("{} ({}, {})", v.product_name, Size::label_of(variant.size), variant.color)
}

impl CartService {
    /// The cart's owner: a user, or a guest with a bag.
    fn owner<T>(&self, request: &Request<T>) -> Result<Identity, Status> {
        let caller = self.verifier.caller(request)?;
        caller.require_shopper()?;
        Ok(caller)
    }

    async fn variants(&self, codes: Vec<String>) -> Result<HashMap<String, VariantInfo>, Status> {
        let found = self.products.clone().get_variants(GetVariantsRequest { codes }).await.map_err(|s| {
            tracing::warn!(error = %s, "product service unavailable");
            Status::unavailable("the catalogue is temporarily unavailable")
        })?;
        Ok(found
            .into_inner()
            .variants
            .into_iter()
            .filter_map(|v| Some((v.variant.as_ref()?.code.clone(), v)))
            .collect())
    }

    async fn variant(&self, code: &str) -> Result<VariantInfo, Status> {
        self.variants(vec![code.to_string()])
            .await?
            .remove(code)
            .ok_or_else(|| Status::not_found(format!("{code} is not in the catalogue")))
    }

    /// The cart as it can be bought now: lines of SKUs that are gone are
    /// removed, lines above the current stock are lowered, prices that
    /// changed since the shopper last saw them are shown old → new, and each
    /// such change is reported (once).
    ///
    /// `known` holds variants this request has just read from the catalogue:
    /// only the others are asked for.
    async fn cart(&self, user_id: &str, known: HashMap<String, VariantInfo>) -> Result<pb::Cart, Status> {
        let (lines, revision) = store::read(&self.pool, user_id).await?;
        self.checked(user_id, lines, revision, known).await
    }

    /// [`Self::cart`], from lines and a revision just read.
    async fn checked(
        &self,
        user_id: &str,
        lines: Vec<store::Line>,
        revision: i64,
        mut known: HashMap<String, VariantInfo>,
    ) -> Result<pb::Cart, Status> {
        if lines.is_empty() {
            return Ok(pb::Cart { revision, ..Default::default() });
        }
        let missing: Vec<String> =
            lines.iter().filter(|l| !known.contains_key(&l.code)).map(|l| l.code.clone()).collect();
        if !missing.is_empty() {
            known.extend(self.variants(missing).await?);
        }
        let variants = known;
        let mut cart = pb::Cart::default();
        let mut changes = Vec::new();
        for store::Line { code, quantity: wanted, seen_price_cents, label } in lines {
            let mut quantity = wanted;
            let Some(info) = variants.get(&code) else {
                changes.push((code.clone(), 0, 0));
                let what = if label.is_empty() { code.clone() } else { label };
                cart.notices.push(pb::CartNotice {
                    message: format!("{what} is no longer sold and was removed from your cart."),
                    code,
                });
                continue;
            };
            let v = info.variant.clone().unwrap_or_default();
            if quantity > v.stock {
                cart.notices.push(pb::CartNotice {
                    code: code.clone(),
                    message: if v.stock == 0 {
                        format!("{} is out of stock and was removed from your cart.", describe(info))
                    } else {
                        format!("{} was lowered to {}: only {} in stock.", describe(info), v.stock, v.stock)
                    },
                });
                quantity = v.stock;
            }
            if seen_price_cents >= 0 && seen_price_cents != v.price_cents && quantity > 0 {
                cart.notices.push(pb::CartNotice {
                    code: code.clone(),
                    message: format!(
                        "{} now costs {} (was {}).",
                        describe(info),
                        euros(v.price_cents),
                        euros(seen_price_cents)
                    ),
                });
            }
            if quantity != wanted || seen_price_cents != v.price_cents {
                changes.push((code.clone(), quantity, v.price_cents));
            }
            if quantity == 0 {
                continue;
            }
            cart.total_cents += v.price_cents * quantity;
            cart.lines.push(pb::CartLine {
                code,
                quantity,
                product_id: info.product_id.clone(),
                product_name: info.product_name.clone(),
                size: Size::label_of(v.size).to_string(),
                color: v.color,
                unit_price_cents: v.price_cents,
                stock: v.stock,
                image: info.image.clone(),
            });
        }
        cart.revision = store::adjust(&self.pool, user_id, &changes).await?.unwrap_or(revision);
        Ok(cart)
    }

    async fn respond(&self, user_id: &str) -> RpcResult<pb::CartResponse> {
        self.respond_knowing(user_id, HashMap::new()).await
    }

    async fn respond_knowing(&self, user_id: &str, known: HashMap<String, VariantInfo>) -> RpcResult<pb::CartResponse> {
        Ok(Response::new(pb::CartResponse { cart: Some(self.cart(user_id, known).await?) }))
    }
}

/// The cart as stored (see `GetCartRequest.as_stored`): each line at the
/// price the shopper last saw.
fn stored(lines: Vec<store::Line>, revision: i64) -> pb::Cart {
    let lines: Vec<pb::CartLine> = lines
        .into_iter()
        .map(|l| pb::CartLine {
            code: l.code,
            quantity: l.quantity,
            unit_price_cents: l.seen_price_cents,
            ..Default::default()
        })
        .collect();
    let total_cents = lines.iter().map(|l| l.unit_price_cents * l.quantity).sum();
    pb::Cart { lines, total_cents, revision, notices: Vec::new() }
}

/// Prices in the shop's one currency, as the storefront writes them.
fn euros(cents: i64) -> String {
    format!("€{}.{:02}", cents / 100, cents % 100)
}

fn quantity(q: i64, min: i64) -> Result<i64, Status> {
    if (min..=MAX_QUANTITY).contains(&q) {
        Ok(q)
    } else {
        Err(Status::invalid_argument(format!("quantity must be between {min} and {MAX_QUANTITY}")))
    }
}

fn not_enough(stock: i64, in_cart: i64) -> Status {
    ServiceError::FailedPrecondition(if stock == 0 {
        "this item is out of stock".into()
    } else {
        format!("only {stock} in stock ({in_cart} already in your cart)")
    })
    .into()
}

#[tonic::async_trait]
impl Rpc for CartService {
    async fn get_cart(&self, request: Request<pb::GetCartRequest>) -> RpcResult<pb::CartResponse> {
        let caller = self.owner(&request)?;
        let (lines, revision) = store::read(&self.pool, &caller.sub).await?;
        // A line whose price was never seen has nothing to reserve at.
        let cart = if request.get_ref().as_stored && lines.iter().all(|l| l.seen_price_cents >= 0) {
            stored(lines, revision)
        } else {
            self.checked(&caller.sub, lines, revision, HashMap::new()).await?
        };
        Ok(Response::new(pb::CartResponse { cart: Some(cart) }))
    }

    async fn add_item(&self, request: Request<pb::AddItemRequest>) -> RpcResult<pb::CartResponse> {
        let caller = self.owner(&request)?;
        let r = request.into_inner();
        let code = code(&r.code)?;
        let add = quantity(r.quantity, 1)?;
        let info = self.variant(&code).await?;
        let label = describe(&info);
        let variant = info.variant.clone().unwrap_or_default();
        let limit = variant.stock.min(MAX_QUANTITY);
        let shown = store::Shown { code: &code, price_cents: variant.price_cents, label: &label };
        if !store::add(&self.pool, &caller.sub, &shown, add, limit).await? {
            return Err(not_enough(variant.stock, store::quantity(&self.pool, &caller.sub, &code).await?));
        }
        self.respond_knowing(&caller.sub, HashMap::from([(code, info)])).await
    }

    async fn set_quantity(&self, request: Request<pb::SetQuantityRequest>) -> RpcResult<pb::CartResponse> {
        let caller = self.owner(&request)?;
        let r = request.into_inner();
        let code = code(&r.code)?;
        let q = quantity(r.quantity, 0)?;
        let mut known = HashMap::new();
        if q == 0 {
            store::remove(&self.pool, &caller.sub, &[code]).await?;
        } else {
            let info = self.variant(&code).await?;
            let label = describe(&info);
            let variant = info.variant.clone().unwrap_or_default();
            if q > variant.stock {
                return Err(not_enough(variant.stock, store::quantity(&self.pool, &caller.sub, &code).await?));
            }
            store::set(
                &self.pool,
                &caller.sub,
                &store::Shown { code: &code, price_cents: variant.price_cents, label: &label },
                q,
            )
            .await?;
            known.insert(code, info);
        }
        self.respond_knowing(&caller.sub, known).await
    }

    async fn remove_item(&self, request: Request<pb::RemoveItemRequest>) -> RpcResult<pb::CartResponse> {
        let caller = self.owner(&request)?;
        store::remove(&self.pool, &caller.sub, &[code(&request.into_inner().code)?]).await?;
        self.respond(&caller.sub).await
    }

    async fn clear_cart(&self, request: Request<pb::ClearCartRequest>) -> RpcResult<pb::CartResponse> {
        let caller = self.owner(&request)?;
        let pb::ClearCartRequest { bought, without_cart } = request.into_inner();
        if bought.is_empty() {
            store::clear(&self.pool, &caller.sub).await?;
        } else {
            let bought = bought.into_iter().map(|l| Ok((code(&l.code)?, quantity(l.quantity, 1)?)));
            store::take_out(&self.pool, &caller.sub, &bought.collect::<Result<Vec<_>, Status>>()?).await?;
        }
        if without_cart {
            return Ok(Response::new(pb::CartResponse { cart: None }));
        }
        self.respond(&caller.sub).await
    }

    async fn merge_cart(&self, request: Request<pb::MergeCartRequest>) -> RpcResult<pb::CartResponse> {
        let caller = self.verifier.caller(&request)?;
        caller.require_user()?;
        let guest = self
            .verifier
            .verify(&request.into_inner().guest_token)
            .ok()
            .filter(|g| g.role == Role::Guest)
            .ok_or_else(|| Status::invalid_argument("guest_token is not a guest's bag (or it has expired)"))?;
        let (lines, _) = store::read(&self.pool, &guest.sub).await?;
        if lines.is_empty() {
            return self.respond(&caller.sub).await;
        }
        let variants = self.variants(lines.iter().map(|l| l.code.clone()).collect()).await?;
        let limit = |code: &str| match variants.get(code) {
            Some(info) => {
                let v = info.variant.clone().unwrap_or_default();
                (v.stock.min(MAX_QUANTITY), v.price_cents, describe(info))
            }
            None => (0, 0, String::new()),
        };
        let clamped = store::merge(&self.pool, &guest.sub, &caller.sub, limit).await?;
        let mut cart = self.cart(&caller.sub, variants.clone()).await?;
        let told: Vec<pb::CartNotice> = clamped
            .into_iter()
            .map(|c| {
                let message = match variants.get(&c.code) {
                    None => {
                        let label = lines.iter().find(|l| l.code == c.code).map(|l| l.label.as_str());
                        let what = label.filter(|l| !l.is_empty()).unwrap_or(&c.code);
                        format!("{what} is no longer sold and was not added to your cart.")
                    }
                    Some(info) if c.now == 0 => {
                        format!("{} is out of stock and was not added to your cart.", describe(info))
                    }
                    Some(info) => format!(
                        "{}: you wanted {} in all, only {} in stock, so your cart holds {}.",
                        describe(info),
                        c.wanted,
                        info.variant.as_ref().map_or(0, |v| v.stock),
                        c.now
                    ),
                };
                pb::CartNotice { code: c.code, message }
            })
            .collect();
        // Said once: the cart's own notices about the same line come after.
        cart.notices.retain(|n| !told.iter().any(|t| t.code == n.code));
        cart.notices.splice(0..0, told);
        Ok(Response::new(pb::CartResponse { cart: Some(cart) }))
    }

    async fn count_items(&self, request: Request<pb::CountItemsRequest>) -> RpcResult<pb::CountItemsResponse> {
        let caller = self.owner(&request)?;
        Ok(Response::new(pb::CountItemsResponse { units: store::units(&self.pool, &caller.sub).await? }))
    }
}
