//! The gRPC face of the order service.

use crate::{OrderService, status, store};
use atelier_proto::order::{self as pb, Status as OrderStatus, order_service_server::OrderService as Rpc};
use atelier_runtime::{Identity, identity::bearer, page::Page};
use tonic::{Request, Response, Status};
use tracing::Instrument;

type RpcResult<T> = Result<Response<T>, Status>;

impl OrderService {
    fn user<T>(&self, request: &Request<T>) -> Result<Identity, Status> {
        let caller = self.verifier.caller(request)?;
        caller.require_user()?;
        Ok(caller)
    }

    /// The order if the caller may see it: its owner or an admin.
    async fn visible(&self, caller: &Identity, id: &str) -> Result<pb::Order, Status> {
        if id.len() > 64 {
            return Err(Status::invalid_argument("order id is too long"));
        }
        let order = match store::get(&self.pool, id).await? {
            Some((order, raw)) if raw != "PENDING" => order,
            _ => return Err(Status::not_found("order not found")),
        };
        if order.user_id != caller.sub && !caller.is_admin() {
            return Err(Status::permission_denied("this is not your order"));
        }
        Ok(order)
    }

    async fn reply(&self, id: &str) -> RpcResult<pb::OrderResponse> {
        let order = store::get(&self.pool, id).await?.map(|(o, _)| o);
        Ok(Response::new(pb::OrderResponse { order }))
    }
}

#[tonic::async_trait]
impl Rpc for OrderService {
    async fn place_order(&self, request: Request<pb::PlaceOrderRequest>) -> RpcResult<pb::OrderResponse> {
        let caller = self.user(&request)?;
        let token = bearer(&request).unwrap_or_default().to_string();
        let r = request.into_inner();
        let delivery = r.delivery();
        let key = r.idempotency_key;
        if !(1..=128).contains(&key.len()) || key.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(Status::invalid_argument("idempotency key must be 1 to 128 printable characters"));
        }
        if let Some(invalid) = crate::delivery::check_address(r.address.as_ref()) {
            return Err(invalid);
        }
        let address = r.address.unwrap_or_default();
        // The checkout runs to its end even if the caller goes away (a
        // dropped connection, a double click): a retry with the same key
        // then finds its outcome instead of a half-done checkout.
        let service = self.clone();
        let checkout = async move { service.place_order(&caller, &token, &key, &address, delivery).await };
        let order = tokio::spawn(checkout.instrument(tracing::Span::current()))
            .await
            .map_err(|e| Status::internal(format!("checkout task failed: {e}")))??;
        Ok(Response::new(pb::OrderResponse { order: Some(order) }))
    }

    async fn get_order(&self, request: Request<pb::GetOrderRequest>) -> RpcResult<pb::OrderResponse> {
        let caller = self.user(&request)?;
        let order = self.visible(&caller, &request.into_inner().id).await?;
        Ok(Response::new(pb::OrderResponse { order: Some(order) }))
    }

    async fn list_my_orders(&self, request: Request<pb::ListMyOrdersRequest>) -> RpcResult<pb::ListOrdersResponse> {
        let caller = self.user(&request)?;
        let r = request.into_inner();
        let filter = store::Filter { user_id: Some(&caller.sub), username: None, status: None };
        Ok(Response::new(store::list(&self.pool, &self.counts, filter, Page::new(r.page, r.per_page, 20)).await?))
    }

    async fn list_all_orders(&self, request: Request<pb::ListAllOrdersRequest>) -> RpcResult<pb::ListOrdersResponse> {
        self.user(&request)?.require_admin()?;
        let r = request.into_inner();
        let status = match OrderStatus::try_from(r.status) {
            Ok(OrderStatus::Unspecified) => None,
            Ok(s) => Some(status::name(s)),
            Err(_) => return Err(Status::invalid_argument("unknown order status")),
        };
        let username = r.username.trim();
        if username.len() > 64 {
            return Err(Status::invalid_argument("username is too long"));
        }
        let filter = store::Filter { user_id: None, username: (!username.is_empty()).then_some(username), status };
        Ok(Response::new(store::list(&self.pool, &self.counts, filter, Page::new(r.page, r.per_page, 20)).await?))
    }

    async fn sales(&self, request: Request<pb::SalesRequest>) -> RpcResult<pb::SalesResponse> {
        self.user(&request)?.require_admin()?;
        let since = request.into_inner().since_ms;
        if since.len() > 4 {
            return Err(Status::invalid_argument("at most 4 windows"));
        }
        Ok(Response::new(store::sales(&self.pool, &since).await?))
    }

    async fn cancel_order(&self, request: Request<pb::CancelOrderRequest>) -> RpcResult<pb::OrderResponse> {
        let caller = self.user(&request)?;
        let id = request.into_inner().id;
        let order = self.visible(&caller, &id).await?;
        if order.user_id != caller.sub {
            return Err(Status::permission_denied("only the customer can cancel an order"));
        }
        let current = order.status();
        if current == OrderStatus::Shipped {
            return Err(Status::failed_precondition(
                "a shipped order cannot be canceled; send the goods back and it is canceled when they arrive",
            ));
        }
        if !status::cancelable_by_customer(current) {
            return Err(Status::failed_precondition(format!(
                "a {} order cannot be canceled",
                status::name(current).to_lowercase()
            )));
        }
        if !self.cancel(&id, current).await? {
            return Err(Status::aborted("the order changed meanwhile; reload and try again"));
        }
        self.reply(&id).await
    }

    async fn update_status(&self, request: Request<pb::UpdateStatusRequest>) -> RpcResult<pb::OrderResponse> {
        let caller = self.user(&request)?;
        caller.require_admin()?;
        let r = request.into_inner();
        let target = match OrderStatus::try_from(r.status) {
            Ok(OrderStatus::Unspecified) | Err(_) => {
                return Err(Status::invalid_argument("unknown order status"));
            }
            Ok(s) => s,
        };
        let order = self.visible(&caller, &r.id).await?;
        let current = order.status();
        if current == target {
            return Ok(Response::new(pb::OrderResponse { order: Some(order) }));
        }
        if !status::can_move(current, target) {
            return Err(Status::failed_precondition(format!(
                "an order cannot go from {} to {}",
                status::name(current).to_lowercase(),
                status::name(target).to_lowercase()
            )));
        }
        let moved = if target == OrderStatus::Canceled {
            // A shipped order is canceled when its goods came back; one still
            // processing is the customer's to cancel.
            if order.user_id != caller.sub && current != OrderStatus::Shipped {
                return Err(Status::permission_denied("admins do not cancel other customers' orders"));
            }
            self.cancel(&r.id, current).await?
        } else {
            let moved = store::transition(&self.pool, &r.id, current, target).await?;
            self.counts.forget();
            moved
        };
        if !moved {
            return Err(Status::aborted("the order changed meanwhile; reload and try again"));
        }
        self.reply(&r.id).await
    }
}
