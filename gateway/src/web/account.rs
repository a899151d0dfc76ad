//! Log in, register, log out, profile and password.

use super::context::{Ctx, Flash, Layout, WebError, capitalize, cookie, field_of, redirect, render_status, safe_next};
use crate::{
    AppState,
    session::{ClientAddress, SESSION_COOKIE, as_user, login_request},
};
use askama::Template;
use atelier_proto::auth as pb;
use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use std::collections::HashMap;
use tonic::Code;

type Errors = HashMap<&'static str, String>;

const SESSION_MAX_AGE: i64 = 7 * 24 * 3600;

/// Just logged in or registered: the guest's bag comes into the account,
/// the session cookie is set, and the shopper goes back where they were.
async fn signed_in(state: &AppState, ctx: &Ctx, session: String, next: &str, welcome: String) -> Response {
    let (said, forget_bag) = match crate::session::authenticate(state, &session).await {
        Ok(Some(user)) => super::bag::bring_into(state, &user, ctx.guest.as_deref(), ctx.secure).await,
        _ => (vec![], None),
    };
    // More than "your bag is here": something was lowered or left out.
    let lowered = said.len() > 1;
    let message = std::iter::once(welcome).chain(said).collect::<Vec<_>>().join(" ");
    let flash = if lowered { Flash::warning(message) } else { Flash::success(message) };
    let response = redirect(&safe_next(next), flash, ctx.secure);
    super::bag::with_cookie(with_session(response, session, ctx.secure, SESSION_MAX_AGE), forget_bag)
}

fn with_session(mut response: Response, token: String, secure: bool, max_age: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&cookie(SESSION_COOKIE, token, secure, max_age).to_string()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// A service error for a form: next to its field if it names one, else on top.
fn form_error(status: &tonic::Status, fields: &[&'static str], errors: &mut Errors) -> Result<StatusCode, WebError> {
    match status.code() {
        Code::InvalidArgument | Code::AlreadyExists | Code::FailedPrecondition => {
            use tonic_types::StatusExt;
            // Each field the service named, next to that field; else the message on top.
            let named: Vec<(&'static str, String)> = status
                .get_details_bad_request()
                .map(|b| b.field_violations)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|v| Some((*fields.iter().find(|f| **f == v.field)?, v.description)))
                .collect();
            if named.is_empty() {
                let field = field_of(status.message(), fields).unwrap_or("form");
                errors.insert(field, capitalize(status.message()));
            }
            for (field, description) in named {
                errors.insert(field, capitalize(&description));
            }
            Ok(if status.code() == Code::AlreadyExists {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            })
        }
        _ => Err(status.clone().into()),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    username: String,
    errors: Errors,
    /// Where to go once signed in (a path of this site).
    next: String,
}

/// `?next=`: the page to return to after signing in or registering.
#[derive(Deserialize, Default)]
pub struct Next {
    #[serde(default)]
    next: String,
}

pub async fn login_page(ctx: Ctx, Query(q): Query<Next>) -> Response {
    let next = safe_next(&q.next);
    if ctx.layout.user.is_some() {
        return axum::response::Redirect::to(&next).into_response();
    }
    render_status(
        StatusCode::OK,
        &LoginPage { layout: ctx.layout, username: String::new(), errors: Errors::new(), next },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    address: ClientAddress,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let request = login_request(&state, form.username.clone(), form.password, &address);
    match state.clients.auth.clone().login(request).await {
        Ok(r) => {
            let r = r.into_inner();
            let name = r.user.map(|u| u.username).unwrap_or_default();
            Ok(signed_in(&state, &ctx, r.session_token, &form.next, format!("Welcome back, {name}!")).await)
        }
        Err(s) if s.code() == Code::Unauthenticated => {
            let errors = Errors::from([("form", "Wrong username or password.".to_string())]);
            Ok(render_status(
                StatusCode::UNAUTHORIZED,
                &LoginPage { layout: ctx.layout, username: form.username, errors, next: safe_next(&form.next) },
            ))
        }
        Err(s) if s.code() == Code::Unavailable => {
            Err(WebError::Unavailable("Logging in is temporarily unavailable. Please try again in a moment.".into()))
        }
        Err(s) => Err(s.into()),
    }
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    layout: Layout,
    form: RegisterForm,
    errors: Errors,
}

#[derive(Deserialize, Default)]
pub struct RegisterForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    next: String,
}

pub async fn register_page(ctx: Ctx, Query(q): Query<Next>) -> Response {
    let form = RegisterForm { next: safe_next(&q.next), ..Default::default() };
    render_status(StatusCode::OK, &RegisterPage { layout: ctx.layout, form, errors: Errors::new() })
}

pub async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(mut form): Form<RegisterForm>,
) -> Result<Response, WebError> {
    let mut errors = Errors::new();
    if form.password != form.confirm {
        errors.insert("confirm", "The two passwords differ.".into());
    }
    let status = if errors.is_empty() {
        let request = pb::RegisterRequest {
            username: form.username.clone(),
            password: form.password.clone(),
            email: form.email.clone(),
            phone: form.phone.clone(),
        };
        match state.clients.auth.clone().register(request).await {
            Ok(_) => {
                let login = pb::LoginRequest { username: form.username.clone(), password: form.password.clone() };
                let session = state.clients.auth.clone().login(login).await?.into_inner();
                let welcome = format!("Welcome to Atelier, {}!", form.username.trim());
                return Ok(signed_in(&state, &ctx, session.session_token, &form.next, welcome).await);
            }
            Err(s) if s.code() == Code::AlreadyExists => {
                errors.insert("form", "Username or email already used.".into());
                StatusCode::CONFLICT
            }
            Err(s) => form_error(&s, &["username", "password", "email", "phone"], &mut errors)?,
        }
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    form.password.clear();
    form.confirm.clear();
    Ok(render_status(status, &RegisterPage { layout: ctx.layout, form, errors }))
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> Response {
    if let Some(user) = &ctx.layout.user
        && let Err(s) =
            state.clients.auth.clone().logout(pb::LogoutRequest { session_token: user.session.clone() }).await
    {
        tracing::warn!(error = %s, "logout could not reach the auth service");
    }
    with_session(
        redirect("/", Flash::success("You are logged out. See you soon!"), ctx.secure),
        String::new(),
        ctx.secure,
        0,
    )
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    layout: Layout,
    email: String,
    phone: String,
    errors: Errors,
    /// The delivery addresses saved at checkout.
    addresses: Vec<pb::Address>,
}

pub async fn profile_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let user = ctx.user()?;
    let (email, phone) = (user.email.clone(), user.phone.clone());
    let addresses = crate::checkout::addresses(&state, user).await?;
    let page = ProfilePage { layout: ctx.layout, email, phone, errors: Errors::new(), addresses };
    Ok(render_status(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
}

pub async fn profile(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ProfileForm>,
) -> Result<Response, WebError> {
    let user = ctx.user()?;
    let request = as_user(user, pb::UpdateProfileRequest { email: form.email.clone(), phone: form.phone.clone() });
    let mut errors = Errors::new();
    match state.clients.auth.clone().update_profile(request).await {
        Ok(_) => Ok(redirect("/account", Flash::success("Your profile is saved."), ctx.secure)),
        Err(s) => {
            let status = form_error(&s, &["email", "phone"], &mut errors)?;
            let addresses = crate::checkout::addresses(&state, user).await?;
            let page = ProfilePage { layout: ctx.layout, email: form.email, phone: form.phone, errors, addresses };
            Ok(render_status(status, &page))
        }
    }
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: Layout,
    errors: Errors,
}

pub async fn password_page(ctx: Ctx) -> Result<Response, WebError> {
    ctx.user()?;
    Ok(render_status(StatusCode::OK, &PasswordPage { layout: ctx.layout, errors: Errors::new() }))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn password(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let user = ctx.user()?;
    let mut errors = Errors::new();
    if form.new != form.confirm {
        errors.insert("confirm", "The two new passwords differ.".into());
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &PasswordPage { layout: ctx.layout, errors }));
    }
    let request = as_user(user, pb::ChangePasswordRequest { old_password: form.current, new_password: form.new });
    match state.clients.auth.clone().change_password(request).await {
        Ok(r) => {
            let response = redirect(
                "/account",
                Flash::success("Your password is changed. Other devices have been logged out."),
                ctx.secure,
            );
            Ok(with_session(response, r.into_inner().session_token, ctx.secure, SESSION_MAX_AGE))
        }
        Err(s) => {
            let field = if s.message().starts_with("current") { "current" } else { "new" };
            if s.code() != Code::InvalidArgument {
                return Err(s.into());
            }
            errors.insert(field, capitalize(s.message()));
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &PasswordPage { layout: ctx.layout, errors }))
        }
    }
}

/// Makes a saved address the default (the one checkout starts with).
pub async fn make_default_address(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    let user = ctx.user()?;
    let Some(address) = crate::checkout::addresses(&state, user).await?.into_iter().find(|a| a.id == id) else {
        return Err(WebError::NotFound);
    };
    let request = pb::SaveAddressRequest { address: Some(address), make_default: true };
    state.clients.auth.clone().save_address(as_user(user, request)).await?;
    Ok(redirect("/account#addresses", Flash::success("That address is your default now."), ctx.secure))
}

pub async fn delete_address(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    let user = ctx.user()?;
    state.clients.auth.clone().delete_address(as_user(user, pb::DeleteAddressRequest { id })).await?;
    let said = "Address deleted. Orders already placed keep theirs.";
    Ok(redirect("/account#addresses", Flash::success(said), ctx.secure))
}
