//! Session and account endpoints.

use super::{ApiError, ApiJson, ApiUser, extract::ErrorBody, types::*};
use crate::clients::read;
use crate::{
    AppState,
    session::{ClientAddress, as_user, login_request},
};
use atelier_proto::auth as pb;
use axum::{Json, extract::State, http::StatusCode};

/// Log in: exchange a username and password for a session token.
#[utoipa::path(post, path = "/session", tag = "session", request_body = LoginBody,
    responses((status = 201, body = SessionOut), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    address: ClientAddress,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<(StatusCode, Json<SessionOut>), ApiError> {
    let r = state
        .clients
        .auth
        .clone()
        .login(login_request(&state, body.username, body.password, &address))
        .await?
        .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(SessionOut { token: r.session_token, expires_at_ms: r.expires_at_ms, user: r.user.map(Into::into) }),
    ))
}

/// Log out: end this session.
#[utoipa::path(delete, path = "/session", tag = "session", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<StatusCode, ApiError> {
    state.clients.auth.clone().logout(pb::LogoutRequest { session_token: user.session }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create a client account.
#[utoipa::path(post, path = "/users", tag = "account", request_body = RegisterBody,
    responses((status = 201, body = UserOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(b): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<UserOut>), ApiError> {
    let request = pb::RegisterRequest { username: b.username, password: b.password, email: b.email, phone: b.phone };
    let user = state.clients.auth.clone().register(request).await?.into_inner().user.unwrap_or_default();
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Your account.
#[utoipa::path(get, path = "/me", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = UserOut), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<UserOut>, ApiError> {
    let request = || as_user(&user, pb::GetUserRequest { username: user.username.clone() });
    Ok(Json(read!(state.clients.auth, get_user, with request)?.user.unwrap_or_default().into()))
}

/// Change your email and/or phone.
#[utoipa::path(patch, path = "/me", tag = "account", security(("bearer" = [])), request_body = ProfilePatch,
    responses((status = 200, body = UserOut), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_me(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(b): ApiJson<ProfilePatch>,
) -> Result<Json<UserOut>, ApiError> {
    let request = as_user(
        &user,
        pb::UpdateProfileRequest { email: b.email.unwrap_or_default(), phone: b.phone.unwrap_or_default() },
    );
    Ok(Json(state.clients.auth.clone().update_profile(request).await?.into_inner().user.unwrap_or_default().into()))
}

/// Change your password: every session ends and a new token is returned.
#[utoipa::path(post, path = "/me/password", tag = "account", security(("bearer" = [])), request_body = PasswordBody,
    responses((status = 200, body = SessionOut), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(b): ApiJson<PasswordBody>,
) -> Result<Json<SessionOut>, ApiError> {
    let request =
        as_user(&user, pb::ChangePasswordRequest { old_password: b.current_password, new_password: b.new_password });
    let r = state.clients.auth.clone().change_password(request).await?.into_inner();
    Ok(Json(SessionOut { token: r.session_token, expires_at_ms: r.expires_at_ms, user: None }))
}
