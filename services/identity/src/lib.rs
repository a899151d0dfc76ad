//! Signed identities. The auth service signs a short-lived token for a user
//! session (Ed25519); every other service holds only the verifying key, so it
//! can check who is calling but cannot mint identities itself.
//!
//! Token: `v1.<base64url(JSON claims)>.<base64url(signature)>`, sent in the
//! gRPC metadata as `authorization: Bearer <token>`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey, ed25519::signature::Signer as _};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tonic::{Request, Status, metadata::MetadataValue};

/// Milliseconds since the Unix epoch, the one time format Atelier stores.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Client,
    Admin,
    /// Another Atelier service (the order service reserving stock).
    Service,
    /// A visitor who has not signed in, with a bag of their own: may use
    /// that bag and nothing else.
    Guest,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Admin => "admin",
            Role::Service => "service",
            Role::Guest => "guest",
        }
    }
}

/// The verified caller of an RPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// User id (or service name).
    pub sub: String,
    /// Username, for display and snapshots.
    pub name: String,
    pub role: Role,
    /// Expiry, ms since the Unix epoch.
    pub exp: i64,
}

impl Identity {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
    pub fn require_admin(&self) -> Result<(), Status> {
        if self.is_admin() { Ok(()) } else { Err(Status::permission_denied("administrators only")) }
    }
    pub fn require_user(&self) -> Result<(), Status> {
        match self.role {
            Role::Client | Role::Admin => Ok(()),
            Role::Service | Role::Guest => Err(Status::permission_denied("a user identity is required")),
        }
    }
    /// Someone with a bag: a user, or a guest.
    pub fn require_shopper(&self) -> Result<(), Status> {
        match self.role {
            Role::Client | Role::Admin | Role::Guest => Ok(()),
            Role::Service => Err(Status::permission_denied("a shopper's identity is required")),
        }
    }
}

/// The key pair behind identities, as configured for a deployment.
#[derive(Clone)]
pub struct IdentityKeys {
    signing: Option<SigningKey>,
    verifying: VerifyingKey,
}

impl std::fmt::Debug for IdentityKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityKeys").field("verifying", &self.verifying_key_b64()).finish_non_exhaustive()
    }
}

impl IdentityKeys {
    pub fn generate() -> Self {
        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        Self { verifying: signing.verifying_key(), signing: Some(signing) }
    }
    /// From a base64url 32-byte Ed25519 seed.
    pub fn from_signing_b64(s: &str) -> anyhow::Result<Self> {
        let bytes: [u8; 32] = B64
            .decode(s.trim())?
            .try_into()
            .map_err(|_| anyhow::anyhow!("the identity signing key must be 32 bytes"))?;
        let signing = SigningKey::from_bytes(&bytes);
        Ok(Self { verifying: signing.verifying_key(), signing: Some(signing) })
    }
    pub fn from_verifying_b64(s: &str) -> anyhow::Result<Self> {
        let bytes: [u8; 32] = B64
            .decode(s.trim())?
            .try_into()
            .map_err(|_| anyhow::anyhow!("the identity verifying key must be 32 bytes"))?;
        Ok(Self { signing: None, verifying: VerifyingKey::from_bytes(&bytes)? })
    }
    pub fn signing_key_b64(&self) -> Option<String> {
        self.signing.as_ref().map(|k| B64.encode(k.to_bytes()))
    }
    pub fn verifying_key_b64(&self) -> String {
        B64.encode(self.verifying.to_bytes())
    }
    pub fn signer(&self) -> Option<Signer> {
        self.signing.clone().map(|key| Signer { key, recent: recent_cache(REUSE_SIGNED_FOR) })
    }
    pub fn verifier(&self) -> Verifier {
        Verifier { key: self.verifying, verified: recent_cache(REMEMBER_VERIFIED_FOR) }
    }
}

/// A token signed for a user is handed out again for this long (while it
/// lives no longer than the session): a shopper's requests then carry the
/// same token, which each service verifies once instead of on every call.
const REUSE_SIGNED_FOR: Duration = Duration::from_secs(15);
/// A verified token is remembered this long; its expiry is checked on every use.
const REMEMBER_VERIFIED_FOR: Duration = Duration::from_secs(60);
/// Tokens remembered at most, by the signer and by each verifier.
const REMEMBERED_TOKENS: u64 = 10_000;

fn recent_cache<K, V>(for_: Duration) -> moka::sync::Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    moka::sync::Cache::builder().max_capacity(REMEMBERED_TOKENS).time_to_live(for_).build()
}

/// Who a user token speaks for: the same user, name and role get the same token.
type Holder = (String, String, Role);

/// Mints identity tokens (the auth service, and deployment tooling for the
/// order service's long-lived service token).
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    /// Tokens signed lately, with their expiry.
    recent: moka::sync::Cache<Holder, (String, i64)>,
}

impl Signer {
    /// A token for `identity` that expires by `identity.exp`: one signed for
    /// the same user, name and role in the last few seconds if it expires no
    /// later, else a new one. A change of role or name always gets a new token.
    pub fn sign_reusing(&self, identity: &Identity) -> String {
        let holder = (identity.sub.clone(), identity.name.clone(), identity.role);
        match self.recent.get(&holder) {
            Some((token, exp)) if exp <= identity.exp && exp > now_ms() => token,
            _ => {
                let token = self.sign(identity);
                self.recent.insert(holder, (token.clone(), identity.exp));
                token
            }
        }
    }

    pub fn sign(&self, identity: &Identity) -> String {
        let claims = B64.encode(serde_json::to_vec(identity).expect("claims serialize"));
        let signed = format!("v1.{claims}");
        let sig = self.key.sign(signed.as_bytes());
        format!("{signed}.{}", B64.encode(sig.to_bytes()))
    }
    /// The order service's credential for reserving and releasing stock,
    /// valid for [`SERVICE_TOKEN_LIFETIME`]. The operator mints a new one
    /// well before it expires; old and new stay valid side by side (same
    /// key), so pods rolling onto the new one never fail a call.
    pub fn service_token(&self, service: &str) -> String {
        self.sign(&Identity {
            sub: format!("service:{service}"),
            name: service.to_string(),
            role: Role::Service,
            exp: now_ms() + SERVICE_TOKEN_LIFETIME.as_millis() as i64,
        })
    }
}

/// How long a service token is valid.
pub const SERVICE_TOKEN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// A service token with less than this left is replaced (the operator
/// rotates it; the embedded shop mints a fresh one).
pub const SERVICE_TOKEN_RENEW_BEFORE: std::time::Duration = std::time::Duration::from_secs(10 * 24 * 3600);

/// How a service proves who it is to another service.
#[derive(Clone)]
pub enum ServiceCredential {
    /// A token from the environment: the operator renews it (and rolls the
    /// pods) long before it expires.
    Token(String),
    /// The signing key itself (the embedded shop): a token for `service`
    /// minted now and again whenever the current one nears its expiry.
    Minted { signer: Box<Signer>, service: String, current: std::sync::Arc<std::sync::Mutex<(String, i64)>> },
}

impl std::fmt::Debug for ServiceCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceCredential(redacted)")
    }
}

impl ServiceCredential {
    pub fn minted(signer: Signer, service: &str) -> Self {
        Self::Minted { signer: Box::new(signer), service: service.to_string(), current: Default::default() }
    }

    pub fn token(&self) -> String {
        match self {
            Self::Token(token) => token.clone(),
            Self::Minted { signer, service, current } => {
                let mut current = current.lock().unwrap_or_else(|e| e.into_inner());
                let now = now_ms();
                if current.1 - now < SERVICE_TOKEN_RENEW_BEFORE.as_millis() as i64 {
                    *current = (signer.service_token(service), now + SERVICE_TOKEN_LIFETIME.as_millis() as i64);
                }
                current.0.clone()
            }
        }
    }
}

/// Checks identity tokens.
#[derive(Clone)]
pub struct Verifier {
    key: VerifyingKey,
    /// Tokens whose signature checked out lately: the same bytes verify the
    /// same way, so only their expiry needs checking again.
    verified: moka::sync::Cache<String, Identity>,
}

impl Verifier {
    pub fn verify(&self, token: &str) -> Result<Identity, Status> {
        let identity = match self.verified.get(token) {
            Some(identity) => identity,
            None => {
                let identity = self.verify_signature(token)?;
                self.verified.insert(token.to_string(), identity.clone());
                identity
            }
        };
        if identity.exp < now_ms() {
            return Err(Status::unauthenticated("identity token expired"));
        }
        Ok(identity)
    }

    fn verify_signature(&self, token: &str) -> Result<Identity, Status> {
        let invalid = || Status::unauthenticated("invalid identity token");
        let (signed, sig) = token.rsplit_once('.').ok_or_else(invalid)?;
        let claims = signed.strip_prefix("v1.").ok_or_else(invalid)?;
        let sig: [u8; 64] = B64.decode(sig).map_err(|_| invalid())?.try_into().map_err(|_| invalid())?;
        self.key.verify_strict(signed.as_bytes(), &Signature::from_bytes(&sig)).map_err(|_| invalid())?;
        serde_json::from_slice(&B64.decode(claims).map_err(|_| invalid())?).map_err(|_| invalid())
    }

    /// The verified identity of an RPC's caller.
    pub fn caller<T>(&self, request: &Request<T>) -> Result<Identity, Status> {
        let token = bearer(request).ok_or_else(|| Status::unauthenticated("missing identity"))?;
        self.verify(token)
    }
}

/// The bearer token of a request's metadata, if any.
pub fn bearer<T>(request: &Request<T>) -> Option<&str> {
    request.metadata().get("authorization")?.to_str().ok()?.strip_prefix("Bearer ")
}

/// Wraps a message in a request that carries `token` as its identity.
pub fn authorized<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    if let Ok(value) = MetadataValue::try_from(format!("Bearer {token}")) {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice(exp: i64) -> Identity {
        Identity { sub: "u1".into(), name: "alice".into(), role: Role::Client, exp }
    }

    #[test]
    fn round_trip_and_forgery() {
        let keys = IdentityKeys::generate();
        let token = keys.signer().unwrap().sign(&alice(now_ms() + 60_000));
        let verifier = IdentityKeys::from_verifying_b64(&keys.verifying_key_b64()).unwrap().verifier();
        assert_eq!(verifier.verify(&token).unwrap().name, "alice");

        // Claims changed to admin with the old signature: refused.
        let (_, sig) = token.rsplit_once('.').unwrap();
        let mut forged = alice(now_ms() + 60_000);
        forged.role = Role::Admin;
        let forged = format!("v1.{}.{sig}", B64.encode(serde_json::to_vec(&forged).unwrap()));
        assert!(verifier.verify(&forged).is_err());
        // Signed by another key: refused.
        let other = IdentityKeys::generate().signer().unwrap().sign(&alice(now_ms() + 60_000));
        assert!(verifier.verify(&other).is_err());
        assert!(verifier.verify("garbage").is_err());
    }

    #[test]
    fn service_tokens_expire_and_old_and_new_are_valid_together() {
        let keys = IdentityKeys::generate();
        let signer = keys.signer().unwrap();
        let old = signer.service_token("order");
        let new = signer.service_token("order");
        for token in [&old, &new] {
            let id = keys.verifier().verify(token).unwrap();
            assert_eq!(id.role, Role::Service);
            let left = id.exp - now_ms();
            assert!(left > 29 * 24 * 3600 * 1000 && left <= 30 * 24 * 3600 * 1000, "about 30 days: {left} ms");
        }
    }

    #[test]
    fn expired_is_refused() {
        let keys = IdentityKeys::generate();
        let token = keys.signer().unwrap().sign(&alice(now_ms() - 1));
        assert_eq!(keys.verifier().verify(&token).unwrap_err().code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn a_remembered_token_still_expires_and_a_forgery_of_it_is_refused() {
        let keys = IdentityKeys::generate();
        let verifier = keys.verifier();
        let soon = now_ms() + 50;
        let token = keys.signer().unwrap().sign(&alice(soon));
        assert_eq!(verifier.verify(&token).unwrap().name, "alice");
        // Remembered now: one byte of its signature changed is another token.
        let mut forged = token.clone().into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        assert!(verifier.verify(std::str::from_utf8(&forged).unwrap()).is_err());
        while now_ms() <= soon {
            std::thread::yield_now();
        }
        assert_eq!(verifier.verify(&token).unwrap_err().code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn a_reused_token_never_outlives_its_session_nor_keeps_an_old_role() {
        let keys = IdentityKeys::generate();
        let signer = keys.signer().unwrap();
        let in_a_minute = now_ms() + 60_000;
        let first = signer.sign_reusing(&alice(in_a_minute));
        assert_eq!(signer.sign_reusing(&alice(in_a_minute + 10)), first, "same user, same token");
        // A session ending sooner than the token: a token that ends with it.
        let shorter = signer.sign_reusing(&alice(in_a_minute - 30_000));
        assert_ne!(shorter, first);
        assert_eq!(keys.verifier().verify(&shorter).unwrap().exp, in_a_minute - 30_000);
        // Promoted: the admin role is never served from a client's token, nor back.
        let admin = Identity { role: Role::Admin, ..alice(in_a_minute) };
        assert_eq!(keys.verifier().verify(&signer.sign_reusing(&admin)).unwrap().role, Role::Admin);
        assert_eq!(keys.verifier().verify(&signer.sign_reusing(&alice(in_a_minute))).unwrap().role, Role::Client);
    }

    #[test]
    fn keys_round_trip_through_base64() {
        let keys = IdentityKeys::generate();
        let again = IdentityKeys::from_signing_b64(&keys.signing_key_b64().unwrap()).unwrap();
        assert_eq!(again.verifying_key_b64(), keys.verifying_key_b64());
    }
}
