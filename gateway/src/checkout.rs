//! Checkout, for the web pages and the API alike: where the order goes
//! (a saved address, the account's default, or one given inline) and how.

use crate::clients::read;
use crate::{session::CurrentUser, session::as_user, state::AppState};
use atelier_proto::{auth, order};
use tonic::Status;

/// Where an order goes.
pub enum Destination {
    /// The account's default address.
    Default,
    /// One of the account's saved addresses, by id.
    Saved(String),
    /// An address given with the order (not saved to the account).
    Given(order::ShippingAddress),
}

/// The delivery method a shopper or client named ("standard", "express").
pub fn parse_delivery(name: &str) -> Option<order::Delivery> {
    match name.trim().to_lowercase().as_str() {
        "" | "standard" => Some(order::Delivery::Standard),
        "express" => Some(order::Delivery::Express),
        _ => None,
    }
}

pub fn delivery_name(delivery: i32) -> &'static str {
    match order::Delivery::try_from(delivery) {
        Ok(order::Delivery::Express) => "express",
        _ => "standard",
    }
}

pub fn shipping(a: auth::Address) -> order::ShippingAddress {
    order::ShippingAddress {
        name: a.name,
        line1: a.line1,
        line2: a.line2,
        postcode: a.postcode,
        city: a.city,
        country: a.country,
    }
}

/// The account's saved addresses, the default first.
pub async fn addresses(state: &AppState, user: &CurrentUser) -> Result<Vec<auth::Address>, Status> {
    Ok(read!(state.clients.auth, list_addresses, with || as_user(user, auth::ListAddressesRequest {}))?.addresses)
}

/// The address an order goes to, from the account's saved addresses when
/// the caller has them already (`saved`), else asked for. No default
/// address, or an id that is not the account's: InvalidArgument naming the
/// `address` field.
pub async fn resolve(
    state: &AppState,
    user: &CurrentUser,
    destination: Destination,
    saved: Option<Vec<auth::Address>>,
) -> Result<order::ShippingAddress, Status> {
    let missing = |message: &str| {
        atelier_runtime::error::invalid_fields(&[("address", Err(atelier_runtime::ServiceError::invalid(message)))])
            .unwrap_or_else(|| Status::invalid_argument(message.to_string()))
    };
    let saved = async {
        match saved {
            Some(saved) => Ok(saved),
            None => addresses(state, user).await,
        }
    };
    match destination {
        Destination::Given(a) => Ok(a),
        Destination::Default => {
            let default = saved.await?.into_iter().find(|a| a.is_default);
            default.map(shipping).ok_or_else(|| {
                missing("no delivery address: give one with the order, or save one to the account first")
            })
        }
        Destination::Saved(id) => {
            let chosen = saved.await?.into_iter().find(|a| a.id == id);
            chosen.map(shipping).ok_or_else(|| missing("that address is not one of this account's"))
        }
    }
}

/// Places the caller's cart as an order under `key` (`saved`: as for [`resolve`]).
pub async fn place_order(
    state: &AppState,
    user: &CurrentUser,
    key: String,
    destination: Destination,
    saved: Option<Vec<auth::Address>>,
    delivery: order::Delivery,
) -> Result<order::Order, Status> {
    let address = resolve(state, user, destination, saved).await?;
    let request = order::PlaceOrderRequest { idempotency_key: key, address: Some(address), delivery: delivery as i32 };
    Ok(state.clients.order.clone().place_order(as_user(user, request)).await?.into_inner().order.unwrap_or_default())
}
