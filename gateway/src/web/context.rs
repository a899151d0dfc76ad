//! What every page needs: the signed-in user, the CSRF token, the flash
//! message; the middleware that checks CSRF and manages those cookies; and
//! the error pages.

use crate::{
    AppState,
    session::{self, CurrentUser, SESSION_COOKIE},
};
use askama::Template;
use axum::{
    body::{Body, to_bytes},
    extract::{FromRequestParts, Request, State},
    http::{HeaderValue, Method, StatusCode, header, request::Parts},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use tonic::Code;

const CSRF_COOKIE: &str = "atelier_csrf";
pub const FLASH_COOKIE: &str = "atelier_flash";

#[derive(Clone)]
struct CsrfToken(String);

/// True when the request reached us over TLS (directly or via the ingress).
#[derive(Clone, Copy)]
struct Secure(bool);

/// The name a cookie goes by: over TLS with the `__Host-` prefix, which
/// browsers accept only from this very host, over HTTPS, for path `/`, so
/// that no sibling subdomain can plant one; over plain HTTP as it is.
pub fn cookie_name(base: &str, secure: bool) -> String {
    if secure { format!("__Host-{base}") } else { base.to_string() }
}

/// True when the request carries cookie `base` under either of its names
/// (plain or `__Host-`): for decisions that must be conservative, such as
/// whether an answer is personal.
pub fn carries_cookie(headers: &axum::http::HeaderMap, base: &str) -> bool {
    let jar = CookieJar::from_headers(headers);
    [false, true].iter().any(|tls| jar.get(&cookie_name(base, *tls)).is_some())
}

/// True when the request says who is asking: a session or a guest's bag
/// (cookies), or a bearer token. Whatever answers it is personal.
pub fn made_as_somebody(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
        || [SESSION_COOKIE, super::bag::BAG_COOKIE].iter().any(|name| carries_cookie(headers, name))
}

/// A cookie of this request, under the name it goes by (see [`cookie_name`]).
pub fn read_cookie<'a>(jar: &'a CookieJar, base: &str, secure: bool) -> Option<&'a Cookie<'static>> {
    jar.get(&cookie_name(base, secure))
}

pub fn cookie(name: &'static str, value: String, secure: bool, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build((cookie_name(name, secure), value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(time::Duration::seconds(max_age_secs))
        .build()
}

/// True when every name and value of a URL-encoded form decodes to UTF-8.
fn is_utf8_form(body: &[u8]) -> bool {
    body.split(|b| *b == b'&').flat_map(|pair| pair.split(|b| *b == b'=')).all(|part| {
        let spaced: Vec<u8> = part.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
        percent_encoding::percent_decode(&spaced).decode_utf8().is_ok()
    })
}

/// The CSRF token of a session: a digest of the session secret, so that it
/// can be neither guessed nor planted without the session itself.
fn session_csrf_token(session: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::new().chain_update(b"atelier-csrf\0").chain_update(session.as_bytes()).finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

fn random_token() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Issues the CSRF cookie, refuses state-changing requests whose form does
/// not carry it, and clears a flash message once it has been shown.
pub async fn web_middleware(State(state): State<AppState>, jar: CookieJar, request: Request, next: Next) -> Response {
    let secure = state.proxies.came_over_tls(crate::proxies::peer(request.extensions()), request.headers());
    let existing = read_cookie(&jar, CSRF_COOKIE, secure).map(|c| c.value().to_string()).filter(|v| v.len() >= 16);
    // Signed in, the token is derived from the session (which only this
    // browser holds): a pair of made-up cookie and field proves nothing.
    // Before signing in it is the random CSRF cookie's value.
    let session = read_cookie(&jar, SESSION_COOKIE, secure).map(|c| c.value().to_string()).filter(|v| !v.is_empty());
    let cookie_token = existing.clone().unwrap_or_else(random_token);
    let token = session.as_deref().map_or_else(|| cookie_token.clone(), session_csrf_token);
    let expected = if session.is_some() { Some(token.clone()) } else { existing.clone() };
    let (mut parts, body) = request.into_parts();
    let method_was_post = parts.method == Method::POST;
    let body = if parts.method == Method::POST {
        let Ok(bytes) = to_bytes(body, crate::BODY_LIMIT).await else {
            return error_page(StatusCode::PAYLOAD_TOO_LARGE, "That form was too large.");
        };
        if !is_utf8_form(&bytes) {
            // Decoding would turn the bad bytes into U+FFFD: two different
            // passwords would become one. Refuse instead, before anything is written.
            return error_page(StatusCode::BAD_REQUEST, "That form held characters that are not valid text.");
        }
        let field = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|fields| fields.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v));
        if expected.is_none() || field.as_deref() != expected.as_deref() {
            return error_page(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from Atelier. Please go back, reload the page and try again.",
            );
        }
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(CsrfToken(token.clone()));
    parts.extensions.insert(Secure(secure));
    let had_flash = read_cookie(&jar, FLASH_COOKIE, secure).is_some();
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(ErrorInfo { status, message }) = response.extensions_mut().remove::<ErrorInfo>() {
        // Error pages show the real header (who is signed in), like any page.
        let user = match read_cookie(&jar, SESSION_COOKIE, secure) {
            Some(c) => session::authenticate(&state, c.value()).await.ok().flatten(),
            None => None,
        };
        let layout = Layout { user, csrf: token.clone(), ..Layout::default() };
        let cookies: Vec<HeaderValue> = response.headers().get_all(header::SET_COOKIE).iter().cloned().collect();
        response = render_error(layout, status, &message);
        for c in cookies {
            response.headers_mut().append(header::SET_COOKIE, c);
        }
    }
    let mut set = vec![];
    if method_was_post {
        set.push(cookie(super::bag::BAG_STAMP_COOKIE, random_token(), secure, 30 * 24 * 3600));
    }
    if existing.is_none() {
        set.push(cookie(CSRF_COOKIE, cookie_token, secure, 7 * 24 * 3600));
    }
    let sets_flash = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(cookie_name(FLASH_COOKIE, secure).as_bytes()));
    if had_flash && !sets_flash && !response.status().is_redirection() {
        set.push(cookie(FLASH_COOKIE, String::new(), secure, 0));
    }
    for c in set {
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// A flash message shown once, on the next page.
#[derive(Debug, Clone)]
pub struct Flash {
    pub kind: &'static str,
    pub message: String,
}

impl Flash {
    pub fn success(m: impl Into<String>) -> Self {
        Self { kind: "success", message: m.into() }
    }
    pub fn warning(m: impl Into<String>) -> Self {
        Self { kind: "warning", message: m.into() }
    }
    pub fn error(m: impl Into<String>) -> Self {
        Self { kind: "error", message: m.into() }
    }
    /// Something went into the cart: shown with the ways to the cart and checkout.
    pub fn added(m: impl Into<String>) -> Self {
        Self { kind: "added", message: m.into() }
    }
    /// Signed: a flash cookie the gateway did not write is never shown.
    fn encode(&self) -> String {
        super::cookie_key::sign(
            &serde_urlencoded::to_string([("k", self.kind), ("m", &self.message)]).unwrap_or_default(),
        )
    }
    fn decode(s: &str) -> Option<Self> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&super::cookie_key::verify(s)?).ok()?;
        let kind = match pairs.iter().find(|(k, _)| k == "k")?.1.as_str() {
            "success" => "success",
            "warning" => "warning",
            "added" => "added",
            _ => "error",
        };
        Some(Self { kind, message: pairs.into_iter().find(|(k, _)| k == "m")?.1.chars().take(500).collect() })
    }
}

/// The header and frame of every page.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub user: Option<CurrentUser>,
    pub csrf: String,
    pub flashes: Vec<Flash>,
    /// The sign-in service is down: pages still render, without the account.
    pub auth_down: bool,
    /// The path asked for, to mark the current section in the navigation.
    pub path: String,
    /// Units in the shopper's bag (signed in or guest), for the Cart link.
    pub bag_units: i64,
}

impl Layout {
    /// True when `href` is the section this page belongs to.
    pub fn is_current(&self, href: &str) -> bool {
        if href == "/" { self.path == "/" } else { self.path == href || self.path.starts_with(&format!("{href}/")) }
    }
}

/// Extracted by every page handler.
pub struct Ctx {
    pub layout: Layout,
    pub secure: bool,
    /// The guest identity of a visitor's bag (never set when signed in).
    pub guest: Option<String>,
    /// Where to come back to after logging in: this page, if it was a GET.
    pub here: Option<String>,
    /// The bag's key in the read cache, for showing a page: its owner and
    /// the browser's bag stamp. `None` for changes (they read live) and for
    /// visitors without a bag.
    pub bag_key: Option<String>,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let csrf = parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
        let secure = parts.extensions.get::<Secure>().is_some_and(|s| s.0);
        let flashes =
            read_cookie(&jar, FLASH_COOKIE, secure).and_then(|c| Flash::decode(c.value())).into_iter().collect();
        let reading = parts.method == Method::GET || parts.method == Method::HEAD;
        let (user, auth_down) = match read_cookie(&jar, SESSION_COOKIE, secure) {
            Some(c) if reading => match session::authenticate_for_reading(state, c.value()).await {
                Ok(user) => (user, false),
                Err(s) => {
                    tracing::warn!(error = %s, "auth service unavailable");
                    (None, true)
                }
            },
            Some(c) => match session::authenticate(state, c.value()).await {
                Ok(user) => (user, false),
                Err(s) => {
                    tracing::warn!(error = %s, "auth service unavailable");
                    (None, true)
                }
            },
            None => (None, false),
        };
        let path = parts.uri.path().to_string();
        let guest = if user.is_none() { super::bag::guest_token(&parts.headers, secure) } else { None };
        // Whose bag, as of which change: the key its reads are kept under.
        // Users and guests apart (a guest cookie is not checked before a
        // cache hit: it must never name a user's bag); a stamp is ours only
        // if it looks like one.
        let bag_key = reading
            .then(|| match (&user, &guest) {
                (Some(u), _) => Some(format!("user:{}", u.id)),
                (None, Some(g)) => Some(format!("guest:{g}")),
                (None, None) => None,
            })
            .flatten()
            .map(|owner| {
                let stamp = read_cookie(&jar, super::bag::BAG_STAMP_COOKIE, secure)
                    .map(|c| c.value())
                    .filter(|v| v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
                    .unwrap_or("");
                format!("{owner}\0{stamp}")
            });
        let bag_units = match (user.as_ref().map(|u| u.identity.as_str()).or(guest.as_deref()), &bag_key) {
            (Some(identity), Some(key)) => super::bag::units_for_page(state, identity, key).await,
            (Some(identity), None) => super::bag::units(state, identity).await,
            (None, _) => 0,
        };
        let here =
            (parts.method == Method::GET).then(|| parts.uri.path_and_query().map_or(path.clone(), |p| p.to_string()));
        let layout = Layout { user, csrf, flashes, auth_down, path, bag_units };
        Ok(Ctx { layout, secure, guest, here, bag_key })
    }
}

impl Ctx {
    pub fn user(&self) -> Result<&CurrentUser, WebError> {
        match &self.layout.user {
            Some(u) => Ok(u),
            None if self.layout.auth_down => Err(WebError::Unavailable(
                "Signing in is temporarily unavailable. You can keep browsing the catalogue.".into(),
            )),
            None => Err(WebError::LoginRequired(self.here.clone(), self.secure)),
        }
    }
    pub fn admin(&self) -> Result<&CurrentUser, WebError> {
        let user = self.user()?;
        if user.is_admin { Ok(user) } else { Err(WebError::Forbidden) }
    }
}

/// Redirect (303, after a POST) with a flash message.
pub fn redirect(to: &str, flash: Flash, secure: bool) -> Response {
    let mut response = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie(FLASH_COOKIE, flash.encode(), secure, 60).to_string()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// Renders a template into a response (500 page if the template fails).
pub fn render(t: &impl Template) -> Response {
    render_status(StatusCode::OK, t)
}

pub fn render_status(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// Failures a page handler can end with.
#[derive(Debug)]
pub enum WebError {
    /// Not signed in: to the login page, and back to this page (if given)
    /// after; whether the request came over TLS (the flash cookie's name).
    LoginRequired(Option<String>, bool),
    Forbidden,
    NotFound,
    Unavailable(String),
    Backend(tonic::Status),
}

impl From<tonic::Status> for WebError {
    fn from(s: tonic::Status) -> Self {
        match s.code() {
            Code::Unauthenticated => WebError::LoginRequired(None, false),
            Code::PermissionDenied => WebError::Forbidden,
            Code::NotFound => WebError::NotFound,
            _ => WebError::Backend(s),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    title: &'a str,
    message: &'a str,
}

/// Marks a response as an error page to be rendered with the viewer's header.
#[derive(Clone)]
struct ErrorInfo {
    status: StatusCode,
    message: String,
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let mut response = render_error(Layout::default(), status, message);
    response.extensions_mut().insert(ErrorInfo { status, message: message.to_string() });
    response
}

fn render_error(layout: Layout, status: StatusCode, message: &str) -> Response {
    let title = match status.as_u16() {
        403 => "Not allowed",
        404 => "Page not found",
        503 => "Temporarily unavailable",
        413 => "Too large",
        s if s < 500 => "Something is not right",
        _ => "Something went wrong",
    };
    render_status(status, &ErrorPage { layout, status: status.as_u16(), title, message })
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::LoginRequired(None, secure) => {
                redirect("/login", Flash::warning("Please log in to continue."), secure)
            }
            WebError::LoginRequired(Some(here), secure) => {
                let to = format!("/login?{}", serde_urlencoded::to_string([("next", &here)]).unwrap_or_default());
                let message = if here.starts_with("/checkout") {
                    "Log in or create an account to check out: your cart comes with you."
                } else {
                    "Please log in to continue."
                };
                redirect(&to, Flash::warning(message), secure)
            }
            WebError::Forbidden => error_page(StatusCode::FORBIDDEN, "This page is for administrators only."),
            WebError::NotFound => error_page(StatusCode::NOT_FOUND, "We could not find what you were looking for."),
            WebError::Unavailable(m) => error_page(StatusCode::SERVICE_UNAVAILABLE, &m),
            WebError::Backend(s) => error_page(crate::error::http_status(&s), &crate::error::user_message(&s)),
        }
    }
}

/// 404 for any unknown path: JSON under /api, a page elsewhere.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        crate::api::ApiError::new(StatusCode::NOT_FOUND, "no such API route").into_response()
    } else {
        WebError::NotFound.into_response()
    }
}

/// 405 for a known path asked with the wrong method (a bookmarked form
/// target such as GET /checkout): a page that says where to go instead.
pub async fn method_not_allowed() -> Response {
    error_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "This address is a form's target and cannot be opened directly. Go back and use the page's button.",
    )
}

pub async fn favicon() -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")],
        include_str!("../../static/favicon.svg"),
    )
        .into_response()
}

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

pub async fn product_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/product.js"),
    )
        .into_response()
}

/// A `next` address to return to, if it is a path of this site ("/" if
/// not): never another site (`//host`, `/\\host`, `https://…`), nothing
/// that is not plain visible ASCII.
pub fn safe_next(next: &str) -> String {
    let path_of_this_site = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 512
        && next.bytes().all(|b| b.is_ascii_graphic());
    if path_of_this_site { next.to_string() } else { "/".into() }
}

/// The field a service's validation message is about ("email address is
/// not valid" -> "email"), to show it next to that field.
pub fn field_of(message: &str, fields: &[&'static str]) -> Option<&'static str> {
    let first = message.split_whitespace().next().unwrap_or_default().to_lowercase();
    fields.iter().copied().find(|f| first.starts_with(f) || (f == &"color" && first == "colour"))
}

/// "email address is not valid" -> "Email address is not valid".
pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Links to the previous and next page of a list, keeping its filters.
pub fn page_links(
    base: &str,
    filters: &[(&str, &str)],
    page: u32,
    total: u64,
    per_page: u32,
) -> (Option<String>, Option<String>) {
    let pages = total.div_ceil(u64::from(per_page)).max(1) as u32;
    let url = |p: u32| {
        let mut query: Vec<(&str, String)> =
            filters.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (*k, v.to_string())).collect();
        query.push(("page", p.to_string()));
        format!("{base}?{}", serde_urlencoded::to_string(query).unwrap_or_default())
    };
    ((page > 1).then(|| url(page - 1)), (page < pages).then(|| url(page + 1)))
}
