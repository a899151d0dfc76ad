//! The services' error type: every domain failure has its gRPC status code.

use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    FailedPrecondition(String),
    /// A concurrent change won (stale version, order being placed): retry.
    #[error("{0}")]
    Aborted(String),
    /// A dependency (another service) is down or too slow.
    #[error("{0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A fault of this service (logged; the caller learns only that it failed).
    #[error("{0}")]
    Internal(String),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// The database is down, restarting or out of connections: the same request
/// can succeed later (as opposed to a bug or a violated constraint).
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Protocol(_) => true,
        // SQLSTATE 08 connection exception, 53 insufficient resources, 57P0x shutdown; SQLite busy/locked.
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08") || c.starts_with("53") || c.starts_with("57P") || c == "5" || c == "6"
        }),
        _ => false,
    }
}

impl ServiceError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::InvalidArgument(msg.into())
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Self {
        let code = match &e {
            ServiceError::InvalidArgument(_) => Code::InvalidArgument,
            ServiceError::NotFound(_) => Code::NotFound,
            ServiceError::AlreadyExists(_) => Code::AlreadyExists,
            ServiceError::PermissionDenied(_) => Code::PermissionDenied,
            ServiceError::Unauthenticated(_) => Code::Unauthenticated,
            ServiceError::FailedPrecondition(_) => Code::FailedPrecondition,
            ServiceError::Aborted(_) => Code::Aborted,
            ServiceError::Unavailable(_) => Code::Unavailable,
            ServiceError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                return Status::internal("internal error");
            }
            ServiceError::Database(inner) => {
                // Details stay in the log; the caller learns only that it failed.
                tracing::error!(error = %inner, "database error");
                return if is_transient(inner) {
                    Status::unavailable("the database is temporarily unavailable")
                } else {
                    Status::internal("internal error")
                };
            }
        };
        Status::new(code, e.to_string())
    }
}

/// A failed call to another service, as seen by the caller.
impl From<Status> for ServiceError {
    fn from(s: Status) -> Self {
        let msg = s.message().to_string();
        match s.code() {
            Code::InvalidArgument => Self::InvalidArgument(msg),
            Code::NotFound => Self::NotFound(msg),
            Code::AlreadyExists => Self::AlreadyExists(msg),
            Code::PermissionDenied => Self::PermissionDenied(msg),
            Code::Unauthenticated => Self::Unauthenticated(msg),
            Code::FailedPrecondition => Self::FailedPrecondition(msg),
            Code::Aborted => Self::Aborted(msg),
            _ => Self::Unavailable(format!("a dependency failed: {msg}")),
        }
    }
}

/// A line of text a person typed (a name, a street): at least `min` and at
/// most `max` characters once trimmed, no control characters; `what` names
/// it in the message.
pub fn one_line(what: &str, s: &str, min: usize, max: usize) -> Result<(), ServiceError> {
    let n = s.trim().chars().count();
    if n < min {
        Err(ServiceError::invalid(format!("{what} is required")))
    } else if n > max || s.chars().any(char::is_control) {
        Err(ServiceError::invalid(format!("{what} must be at most {max} characters, on one line")))
    } else {
        Ok(())
    }
}

/// Every field a request got wrong at once (google.rpc.BadRequest details,
/// which forms show next to each field); the message is the first of them,
/// for clients that read only that. None when every check passed.
pub fn invalid_fields(checks: &[(&str, Result<(), ServiceError>)]) -> Option<tonic::Status> {
    use tonic_types::{ErrorDetails, StatusExt};
    let violations: Vec<(&str, String)> =
        checks.iter().filter_map(|(field, result)| Some((*field, result.as_ref().err()?.to_string()))).collect();
    let (_, first) = violations.first()?;
    let mut details = ErrorDetails::new();
    for (field, description) in &violations {
        details.add_bad_request_violation(*field, description.clone());
    }
    Some(tonic::Status::with_error_details(tonic::Code::InvalidArgument, first.clone(), details))
}
