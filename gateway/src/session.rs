//! Who is asking: a session (cookie for the web site, Bearer token for the
//! API) exchanged with the auth service for a signed identity on each API
//! call and each change; a page view may reuse one from the last moment
//! (see [`crate::read_cache`]).

use crate::state::AppState;
use atelier_proto::auth::{Address, AuthenticateRequest, Role};
use tonic::{Code, Status};

pub const SESSION_COOKIE: &str = "atelier_session";

#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: String,
    pub username: String,
    pub email: String,
    pub phone: String,
    pub is_admin: bool,
    /// The session secret (to log out).
    pub session: String,
    /// The signed identity to forward to the services.
    pub identity: String,
}

/// Exchanges a session token for the user; `Ok(None)` if the session ended.
pub async fn authenticate(state: &AppState, session: &str) -> Result<Option<CurrentUser>, Status> {
    Ok(authenticate_with(state, session, false).await?.map(|(user, _)| user))
}

/// [`authenticate`], with the account's saved addresses (the default first)
/// read by the same call: for placing an order.
pub async fn authenticate_with_addresses(
    state: &AppState,
    session: &str,
) -> Result<Option<(CurrentUser, Vec<Address>)>, Status> {
    authenticate_with(state, session, true).await
}

async fn authenticate_with(
    state: &AppState,
    session: &str,
    with_addresses: bool,
) -> Result<Option<(CurrentUser, Vec<Address>)>, Status> {
    if session.is_empty() || session.len() > 128 {
        return Ok(None);
    }
    let request = AuthenticateRequest { session_token: session.to_string(), with_addresses };
    match crate::clients::read!(state.clients.auth, authenticate, request) {
        Ok(r) => {
            let user = r.user.unwrap_or_default();
            let current = CurrentUser {
                is_admin: user.role() == Role::Admin,
                id: user.id,
                username: user.username,
                email: user.email,
                phone: user.phone,
                session: session.to_string(),
                identity: r.identity_token,
            };
            Ok(Some((current, r.addresses)))
        }
        Err(s) if s.code() == Code::Unauthenticated => Ok(None),
        Err(s) => Err(s),
    }
}

/// [`authenticate`] for showing a page: a session checked in the last
/// moment is not checked again (see [`crate::read_cache`]). Changes always
/// use [`authenticate`].
pub async fn authenticate_for_reading(state: &AppState, session: &str) -> Result<Option<CurrentUser>, Status> {
    state.reads.session(session, || authenticate(state, session)).await
}

/// Wraps a message in a request carrying the user's identity.
pub fn as_user<T>(user: &CurrentUser, message: T) -> tonic::Request<T> {
    atelier_runtime::identity::authorized(message, &user.identity)
}

/// Where a request comes from (see [`crate::proxies`]). Used only to limit
/// failed logins.
pub struct ClientAddress(pub String);

impl axum::extract::FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut http::request::Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let client = state.proxies.client(crate::proxies::peer(&parts.extensions), &parts.headers);
        Ok(ClientAddress(client.map(|ip| ip.to_string()).unwrap_or_default()))
    }
}

/// Metadata key of the client address (the auth service reads it).
const CLIENT_ADDRESS_HEADER: &str = "x-atelier-client-address";

/// A login request carrying the client's address for the failed-login
/// limits, vouched for by the gateway's own service identity (the auth
/// service believes the address only with it).
pub fn login_request(
    state: &AppState,
    username: String,
    password: String,
    address: &ClientAddress,
) -> tonic::Request<atelier_proto::auth::LoginRequest> {
    let message = atelier_proto::auth::LoginRequest { username, password };
    let Some(credential) = &state.credential else { return tonic::Request::new(message) };
    let mut request = atelier_runtime::identity::authorized(message, &credential.token());
    if let Ok(v) = address.0.parse() {
        request.metadata_mut().insert(CLIENT_ADDRESS_HEADER, v);
    }
    request
}
