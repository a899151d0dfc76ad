//! The API's error type and extractors.

use crate::{error, session, state::AppState};
use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, Request, rejection::JsonRejection},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};
use utoipa::ToSchema;

/// `{"error": {"code": "...", "message": "..."}}`
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: invalid, not_found, conflict, …
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), retry_after: None }
    }
}

impl From<tonic::Status> for ApiError {
    fn from(s: tonic::Status) -> Self {
        Self { status: error::http_status(&s), message: error::user_message(&s), retry_after: error::retry_after(&s) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { error: ErrorDetail { code: error::api_code(self.status).into(), message: self.message } };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(http::header::RETRY_AFTER, secs.into());
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// 405 for an API route asked with a method it does not have.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "this route does not take that method")
}

/// `Query<T>` whose rejections speak the API's error shape (400).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(rejection) => Err(ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text())),
        }
    }
}

/// `Json<T>` whose rejections speak the API's error shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => {
                let status = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    JsonRejection::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    JsonRejection::JsonSyntaxError(_) => StatusCode::BAD_REQUEST,
                    other => other.status(),
                };
                Err(ApiError::new(status, rejection.body_text()))
            }
        }
    }
}

/// The caller, from `Authorization: Bearer <session token>`.
pub struct ApiUser(pub session::CurrentUser);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        session::authenticate(state, bearer(parts)?).await?.map(ApiUser).ok_or_else(session_ended)
    }
}

/// [`ApiUser`] with the account's saved addresses, the default first, read
/// in the same call to the auth service: for placing an order.
pub struct ApiBuyer(pub session::CurrentUser, pub Vec<atelier_proto::auth::Address>);

impl FromRequestParts<AppState> for ApiBuyer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (user, addresses) =
            session::authenticate_with_addresses(state, bearer(parts)?).await?.ok_or_else(session_ended)?;
        Ok(ApiBuyer(user, addresses))
    }
}

/// The session token of a request's `Authorization: Bearer` header.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let bearer = parts.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let token = bearer.and_then(|v| v.strip_prefix("Bearer "));
    token
        .map(str::trim)
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "log in first: send Authorization: Bearer <token>"))
}

fn session_ended() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "the session has ended or is not valid; log in again")
}

impl ApiUser {
    pub fn admin(self) -> Result<session::CurrentUser, ApiError> {
        if self.0.is_admin { Ok(self.0) } else { Err(ApiError::new(StatusCode::FORBIDDEN, "administrators only")) }
    }
}
