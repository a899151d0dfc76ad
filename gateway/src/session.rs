//! Who is asking: a session (cookie for the web site, Bearer token for the
//! API) exchanged with the auth service for a signed identity on each request.

use crate::state::AppState;
use atelier_proto::auth::{AuthenticateRequest, Role};
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
    if session.is_empty() || session.len() > 128 {
        return Ok(None);
    }
    let request = AuthenticateRequest { session_token: session.to_string() };
    match crate::clients::read!(state.clients.auth, authenticate, request) {
        Ok(r) => {
            let user = r.user.unwrap_or_default();
            Ok(Some(CurrentUser {
                is_admin: user.role() == Role::Admin,
                id: user.id,
                username: user.username,
                email: user.email,
                phone: user.phone,
                session: session.to_string(),
                identity: r.identity_token,
            }))
        }
        Err(s) if s.code() == Code::Unauthenticated => Ok(None),
        Err(s) => Err(s),
    }
}

/// Wraps a message in a request carrying the user's identity.
pub fn as_user<T>(user: &CurrentUser, message: T) -> tonic::Request<T> {
    atelier_runtime::identity::authorized(message, &user.identity)
}

/// Where a request comes from: the first X-Forwarded-For hop (set by the
/// ingress), else the TCP peer. Used only to limit failed logins.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string());
        let peer =
            || parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(ClientAddress(forwarded.or_else(peer).unwrap_or_default().chars().take(64).collect()))
    }
}

/// Metadata key of the client address (the auth service reads it).
const CLIENT_ADDRESS_HEADER: &str = "x-atelier-client-address";

/// A login request carrying the client's address for the failed-login limits.
pub fn login_request(
    username: String,
    password: String,
    address: &ClientAddress,
) -> tonic::Request<atelier_proto::auth::LoginRequest> {
    let mut request = tonic::Request::new(atelier_proto::auth::LoginRequest { username, password });
    if let Ok(v) = address.0.parse() {
        request.metadata_mut().insert(CLIENT_ADDRESS_HEADER, v);
    }
    request
}
