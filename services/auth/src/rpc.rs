//! The gRPC face of the auth service.

use crate::{
    AuthService, GUEST_TTL_MS, IDENTITY_TTL_MS, SESSION_TTL_MS, addresses, password, store, store::UserRow, validate,
};
use atelier_proto::auth::{self as pb, auth_service_server::AuthService as Rpc};
use atelier_runtime::{Identity, Role, ServiceError, now_ms, page::Page};
use tonic::{Request, Response, Status};

type RpcResult<T> = Result<Response<T>, Status>;

fn to_pb(user: &UserRow) -> pb::User {
    pb::User {
        id: user.id.clone(),
        username: user.username.clone(),
        email: user.email.clone(),
        phone: user.phone.clone(),
        role: if user.role == "admin" { pb::Role::Admin } else { pb::Role::Client } as i32,
        created_at_ms: user.created_at_ms,
    }
}

fn role_of(user: &UserRow) -> Role {
    if user.role == "admin" { Role::Admin } else { Role::Client }
}

impl AuthService {
    fn caller<T>(&self, request: &Request<T>) -> Result<Identity, Status> {
        let identity = self.verifier.caller(request)?;
        identity.require_user()?;
        Ok(identity)
    }
}

#[tonic::async_trait]
impl Rpc for AuthService {
    async fn register(&self, request: Request<pb::RegisterRequest>) -> RpcResult<pb::RegisterResponse> {
        let r = request.into_inner();
        // Every mistake at once, each for its field.
        let checks = [
            ("username", validate::username(&r.username).map(drop)),
            ("password", validate::password(&r.password)),
            ("email", validate::email(&r.email).map(drop)),
            ("phone", validate::phone(&r.phone).map(drop)),
        ];
        if let Some(invalid) = atelier_runtime::error::invalid_fields(&checks) {
            return Err(invalid);
        }
        let username = validate::username(&r.username)?;
        let email = validate::email(&r.email)?;
        let phone = validate::phone(&r.phone)?;
        let password_hash = password::hash(r.password).await.map_err(|e| Status::internal(e.to_string()))?;
        let user = store::insert_user(
            &self.pool,
            store::NewUser { username, email: &email, phone, role: "client", password_hash: &password_hash },
        )
        .await?;
        tracing::info!(user_id = %user.id, "registered");
        atelier_runtime::metrics::count("atelier_registrations_total");
        Ok(Response::new(pb::RegisterResponse { user: Some(to_pb(&user)) }))
    }

    async fn login(&self, request: Request<pb::LoginRequest>) -> RpcResult<pb::LoginResponse> {
        // The client's address counts only when the gateway vouches for it
        // with its service identity; anyone else's metadata is ignored.
        let from_gateway = self.verifier.caller(&request).is_ok_and(|c| c.role == Role::Service && c.name == "gateway");
        let address = request
            .metadata()
            .get(crate::CLIENT_ADDRESS_HEADER)
            .filter(|_| from_gateway)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let r = request.into_inner();
        if let Err(wait) = self.throttle.check(&r.username, address.as_deref()) {
            return Err(too_many("failed logins", wait));
        }
        if r.username.len() > 64 || r.password.len() > validate::MAX_PASSWORD * 4 {
            return Err(Status::unauthenticated("wrong username or password"));
        }
        let user = store::user_by_name(&self.pool, &r.username).await?;
        // Same message and the same work whether the user exists or not.
        let ok = password::verify(r.password, user.as_ref().map(|u| u.password_hash.clone())).await;
        let Some(user) = user.filter(|_| ok) else {
            self.throttle.failed(&r.username, address.as_deref());
            atelier_runtime::metrics::count("atelier_logins_failed_total");
            return Err(Status::unauthenticated("wrong username or password"));
        };
        self.throttle.succeeded(&r.username, address.as_deref());
        atelier_runtime::metrics::count("atelier_logins_succeeded_total");
        let (session_token, expires_at_ms) = store::create_session(&self.pool, &user.id, SESSION_TTL_MS).await?;
        Ok(Response::new(pb::LoginResponse { session_token, user: Some(to_pb(&user)), expires_at_ms }))
    }

    async fn logout(&self, request: Request<pb::LogoutRequest>) -> RpcResult<pb::LogoutResponse> {
        store::delete_session(&self.pool, &request.into_inner().session_token).await?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn authenticate(&self, request: Request<pb::AuthenticateRequest>) -> RpcResult<pb::AuthenticateResponse> {
        let r = request.into_inner();
        let (user, expires) = store::session_user(&self.pool, &r.session_token)
            .await?
            .ok_or_else(|| Status::unauthenticated("session expired or ended; please log in"))?;
        let identity = Identity {
            sub: user.id.clone(),
            name: user.username.clone(),
            role: role_of(&user),
            exp: expires.min(now_ms() + IDENTITY_TTL_MS),
        };
        let addresses = if r.with_addresses { addresses::list(&self.pool, &user.id).await? } else { vec![] };
        Ok(Response::new(pb::AuthenticateResponse {
            identity_token: self.signer.sign_reusing(&identity),
            user: Some(to_pb(&user)),
            addresses,
        }))
    }

    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> RpcResult<pb::ChangePasswordResponse> {
        let caller = self.caller(&request)?;
        let r = request.into_inner();
        validate::password(&r.new_password)?;
        // A stolen session must not become a way to guess the password.
        if let Err(wait) = self.password_changes.check(&caller.sub, None) {
            return Err(too_many("wrong current passwords", wait));
        }
        let user = store::user_by_id(&self.pool, &caller.sub).await?;
        if !password::verify(r.old_password, Some(user.password_hash)).await {
            self.password_changes.failed(&caller.sub, None);
            return Err(ServiceError::invalid("current password is wrong").into());
        }
        self.password_changes.succeeded(&caller.sub, None);
        let hash = password::hash(r.new_password).await.map_err(|e| Status::internal(e.to_string()))?;
        store::set_password(&self.pool, &user.id, &hash).await?;
        let (session_token, expires_at_ms) = store::create_session(&self.pool, &user.id, SESSION_TTL_MS).await?;
        Ok(Response::new(pb::ChangePasswordResponse { session_token, expires_at_ms }))
    }

    async fn update_profile(&self, request: Request<pb::UpdateProfileRequest>) -> RpcResult<pb::UpdateProfileResponse> {
        let caller = self.caller(&request)?;
        let r = request.into_inner();
        let checks = [
            ("email", if r.email.trim().is_empty() { Ok(()) } else { validate::email(&r.email).map(drop) }),
            ("phone", if r.phone.trim().is_empty() { Ok(()) } else { validate::phone(&r.phone).map(drop) }),
        ];
        if let Some(invalid) = atelier_runtime::error::invalid_fields(&checks) {
            return Err(invalid);
        }
        let email = (!r.email.trim().is_empty()).then(|| validate::email(&r.email)).transpose()?;
        let phone = (!r.phone.trim().is_empty()).then(|| validate::phone(&r.phone)).transpose()?;
        let user = store::update_profile(&self.pool, &caller.sub, email.as_deref(), phone).await?;
        Ok(Response::new(pb::UpdateProfileResponse { user: Some(to_pb(&user)) }))
    }

    async fn get_user(&self, request: Request<pb::GetUserRequest>) -> RpcResult<pb::GetUserResponse> {
        let caller = self.caller(&request)?;
        let username = request.into_inner().username;
        if !caller.is_admin() && !caller.name.eq_ignore_ascii_case(username.trim()) {
            return Err(Status::permission_denied("you may only see your own account"));
        }
        let user =
            store::user_by_name(&self.pool, &username).await?.ok_or_else(|| Status::not_found("user not found"))?;
        Ok(Response::new(pb::GetUserResponse { user: Some(to_pb(&user)) }))
    }

    async fn list_users(&self, request: Request<pb::ListUsersRequest>) -> RpcResult<pb::ListUsersResponse> {
        self.caller(&request)?.require_admin()?;
        let r = request.into_inner();
        if r.query.chars().count() > 64 {
            return Err(Status::invalid_argument("query is too long (64 characters at most)"));
        }
        let (users, total) = store::list_users(&self.pool, &r.query, Page::new(r.page, r.per_page, 20)).await?;
        Ok(Response::new(pb::ListUsersResponse { users: users.iter().map(to_pb).collect(), total }))
    }

    async fn set_role(&self, request: Request<pb::SetRoleRequest>) -> RpcResult<pb::SetRoleResponse> {
        let caller = self.caller(&request)?;
        caller.require_admin()?;
        let r = request.into_inner();
        let role = match pb::Role::try_from(r.role) {
            Ok(pb::Role::Client) => "client",
            Ok(pb::Role::Admin) => "admin",
            _ => return Err(Status::invalid_argument("role must be CLIENT or ADMIN")),
        };
        if caller.name.eq_ignore_ascii_case(r.username.trim()) {
            return Err(Status::permission_denied("you cannot change your own role"));
        }
        let user = store::set_role(&self.pool, &r.username, role).await?;
        tracing::info!(user_id = %user.id, role, "role changed");
        Ok(Response::new(pb::SetRoleResponse { user: Some(to_pb(&user)) }))
    }

    async fn list_addresses(&self, request: Request<pb::ListAddressesRequest>) -> RpcResult<pb::ListAddressesResponse> {
        let caller = self.caller(&request)?;
        Ok(Response::new(pb::ListAddressesResponse { addresses: addresses::list(&self.pool, &caller.sub).await? }))
    }

    async fn save_address(&self, request: Request<pb::SaveAddressRequest>) -> RpcResult<pb::SaveAddressResponse> {
        let caller = self.caller(&request)?;
        let r = request.into_inner();
        let address = r.address.unwrap_or_default();
        if let Some(invalid) = addresses::check(&address) {
            return Err(invalid);
        }
        let saved = addresses::save(&self.pool, &caller.sub, &address, r.make_default).await?;
        Ok(Response::new(pb::SaveAddressResponse { address: Some(saved) }))
    }

    async fn delete_address(&self, request: Request<pb::DeleteAddressRequest>) -> RpcResult<pb::DeleteAddressResponse> {
        let caller = self.caller(&request)?;
        addresses::delete(&self.pool, &caller.sub, &request.into_inner().id).await?;
        Ok(Response::new(pb::DeleteAddressResponse {}))
    }

    async fn start_guest(&self, _: Request<pb::StartGuestRequest>) -> RpcResult<pb::StartGuestResponse> {
        // Nothing is stored: the bag is the cart service's, under this subject.
        let expires_at_ms = now_ms() + GUEST_TTL_MS;
        let identity = Identity {
            sub: format!("guest:{}", uuid::Uuid::new_v4().simple()),
            name: "guest".into(),
            role: Role::Guest,
            exp: expires_at_ms,
        };
        atelier_runtime::metrics::count("atelier_guest_bags_total");
        Ok(Response::new(pb::StartGuestResponse { identity_token: self.signer.sign(&identity), expires_at_ms }))
    }
}

/// RESOURCE_EXHAUSTED with the wait in `retry-after` (the gateway's 429).
fn too_many(what: &str, wait: std::time::Duration) -> Status {
    let secs = wait.as_secs().max(1);
    let mut status = Status::resource_exhausted(format!("too many {what}; try again in {secs} seconds"));
    if let Ok(v) = secs.to_string().parse() {
        status.metadata_mut().insert("retry-after", v);
    }
    status
}
