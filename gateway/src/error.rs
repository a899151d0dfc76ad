//! From service failures to what people see: gRPC codes become HTTP statuses.

use axum::http::StatusCode;
use tonic::{Code, Status};

/// The HTTP status for a failed call. A status that the transport made up
/// (it carries the underlying h2/IO error, e.g. the peer went away mid-call)
/// is a 503 whatever its code; the services' own Internal errors are 500s.
pub fn http_status(status: &Status) -> StatusCode {
    if std::error::Error::source(status).is_some() && matches!(status.code(), Code::Internal | Code::Unknown) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    code_status(status.code())
}

fn code_status(code: Code) -> StatusCode {
    match code {
        Code::InvalidArgument | Code::OutOfRange => StatusCode::UNPROCESSABLE_ENTITY,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        // Unknown is what a connection dropped mid-call looks like (a crashed peer).
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The message to show for a status: the service's own words for user
/// errors, a generic sentence otherwise (internals stay in the log).
pub fn user_message(status: &Status) -> String {
    match http_status(status) {
        s if s == StatusCode::SERVICE_UNAVAILABLE => {
            tracing::warn!(code = ?status.code(), message = status.message(), cause = %causes(status), "backend unavailable");
            "This part of the shop is temporarily unavailable. Please try again in a moment.".into()
        }
        s if s.is_server_error() => {
            tracing::error!(code = ?status.code(), message = status.message(), "backend error");
            "Something went wrong on our side.".into()
        }
        _ => status.message().to_string(),
    }
}

/// The error's source chain, outermost first: what the transport saw
/// (a refused connection, a reset stream) when a call failed.
fn causes(status: &Status) -> String {
    let mut chain = vec![];
    let mut source = std::error::Error::source(status);
    while let Some(e) = source {
        chain.push(e.to_string());
        source = e.source();
    }
    chain.join(": ")
}

/// A stable machine-readable code for the JSON API.
pub fn api_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "invalid",
        429 => "too_many_requests",
        503 => "unavailable",
        _ => "internal",
    }
}

/// Seconds to wait, when a service said so (`retry-after` metadata).
pub fn retry_after(status: &Status) -> Option<u64> {
    status.metadata().get("retry-after")?.to_str().ok()?.parse().ok()
}
