//! A visitor's bag before they sign in: a guest identity from the auth
//! service, kept in a cookie; the cart service keeps the bag under it. On
//! logging in or registering the bag moves into the account's cart.

use super::context::{Ctx, cookie, read_cookie};
use crate::clients::read;
use crate::{AppState, read_cache::BagLines, session::CurrentUser};
use atelier_proto::{auth::StartGuestRequest, cart as cart_pb};
use axum::http::{HeaderMap, HeaderValue, header};
use axum_extra::extract::cookie::CookieJar;
use std::sync::Arc;
use tonic::{Code, Request, Status};

/// The guest's identity token; present only while not signed in.
pub const BAG_COOKIE: &str = "atelier_bag";

/// Renewed by every form post (see [`crate::read_cache`]): a page after a
/// change never shows a bag read before it, whichever replica serves it.
pub const BAG_STAMP_COOKIE: &str = "atelier_bag_stamp";

/// How long the bag cookie lives: as long as the guest identity (30 days).
const BAG_COOKIE_SECS: i64 = 30 * 24 * 3600;

/// The guest identity this browser carries, if any.
pub fn guest_token(headers: &HeaderMap, secure: bool) -> Option<String> {
    let jar = CookieJar::from_headers(headers);
    read_cookie(&jar, BAG_COOKIE, secure).map(|c| c.value().to_string()).filter(|v| !v.is_empty() && v.len() <= 1024)
}

/// A request to the cart service as whoever owns this browser's bag.
pub fn as_owner<T>(identity: &str, message: T) -> Request<T> {
    atelier_runtime::identity::authorized(message, identity)
}

/// Whose bag a page shows: the signed-in user's, else the guest's (if any).
pub fn owner(ctx: &Ctx) -> Option<&str> {
    match &ctx.layout.user {
        Some(user) => Some(&user.identity),
        None => ctx.guest.as_deref(),
    }
}

/// Units in the bag of whoever is asking (0 when there is none or the cart
/// service does not answer: the count is a convenience, never a failure).
pub async fn units(state: &AppState, identity: &str) -> i64 {
    count(state, identity).await.unwrap_or(0)
}

async fn count(state: &AppState, identity: &str) -> Result<i64, Status> {
    Ok(read!(state.clients.cart, count_items, with || as_owner(identity, cart_pb::CountItemsRequest {}))?.units)
}

/// Units in the bag a page shows, read through the read cache under the
/// page's bag key (see [`Ctx::bag_key`]).
pub async fn units_for_page(state: &AppState, identity: &str, bag_key: &str) -> i64 {
    state.reads.bag_units(bag_key, || count(state, identity)).await
}

/// Units per variant code in the bag a page shows (none when there is no
/// bag or the cart service does not answer).
pub async fn lines_for_page(state: &AppState, ctx: &Ctx) -> BagLines {
    let (Some(identity), Some(key)) = (owner(ctx), ctx.bag_key.as_deref()) else {
        return BagLines::default();
    };
    state
        .reads
        .bag_lines(key, || async {
            let cart =
                read!(state.clients.cart, get_cart, with || as_owner(identity, cart_pb::GetCartRequest::default()))?;
            let lines = cart.cart.unwrap_or_default().lines;
            Ok(Arc::new(lines.into_iter().map(|l| (l.code, l.quantity)).collect()))
        })
        .await
}

/// The identity to add to the bag with: the user's, the guest's, or (for a
/// first-time visitor, or one whose guest identity expired) a new guest
/// identity with the cookie that keeps it.
pub async fn owner_for_adding(
    state: &AppState,
    ctx: &Ctx,
    expired: bool,
) -> Result<(String, Option<HeaderValue>), Status> {
    if let Some(identity) = owner(ctx).filter(|_| !expired) {
        return Ok((identity.to_string(), None));
    }
    let guest = state.clients.auth.clone().start_guest(StartGuestRequest {}).await?.into_inner();
    let set = HeaderValue::from_str(
        &cookie(BAG_COOKIE, guest.identity_token.clone(), ctx.secure, BAG_COOKIE_SECS).to_string(),
    )
    .ok();
    Ok((guest.identity_token, set))
}

/// After signing in: the guest's bag into the user's cart. What to tell the
/// shopper (empty when there was nothing to bring), and the cookie that
/// forgets the guest bag. A bag that cannot be moved now stays where it is
/// (the cookie is kept) and is brought over at the next sign-in.
pub async fn bring_into(
    state: &AppState,
    user: &CurrentUser,
    guest: Option<&str>,
    secure: bool,
) -> (Vec<String>, Option<HeaderValue>) {
    let Some(guest) = guest else { return (vec![], None) };
    let forget = HeaderValue::from_str(&cookie(BAG_COOKIE, String::new(), secure, 0).to_string()).ok();
    if units(state, guest).await == 0 {
        return (vec![], forget);
    }
    let request = as_owner(&user.identity, cart_pb::MergeCartRequest { guest_token: guest.to_string() });
    match state.clients.cart.clone().merge_cart(request).await {
        Ok(r) => {
            let cart = r.into_inner().cart.unwrap_or_default();
            let mut said = vec!["Your bag is in your account's cart now.".to_string()];
            said.extend(cart.notices.into_iter().map(|n| n.message));
            (said, forget)
        }
        // An expired or foreign token: nothing to bring, forget it.
        Err(s) if s.code() == Code::InvalidArgument => (vec![], forget),
        Err(s) => {
            tracing::warn!(error = %s, "could not bring a guest's bag into the account");
            (vec!["Your bag could not be brought over just now; it will be at your next sign-in.".into()], None)
        }
    }
}

/// Adds `cookie` (if any) to a response.
pub fn with_cookie(mut response: axum::response::Response, cookie: Option<HeaderValue>) -> axum::response::Response {
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}
