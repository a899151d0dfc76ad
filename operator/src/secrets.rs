//! Generated secrets: created once with fresh random values, then kept as
//! they are (never regenerated, never logged).

use crate::{
    builders::{self, SERVICES},
    crd::Shop,
};
use base64::Engine as _;
use k8s_openapi::{ByteString, api::core::v1::Secret};
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{ObjectMeta, PostParams},
};
use std::collections::BTreeMap;

fn random_password() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The service tokens in the identity Secret: (key, service).
const SERVICE_TOKENS: [(&str, &str); 2] = [("service-token", "order"), ("gateway-token", "gateway")];

/// The identity key pair, the service tokens and the key that signs the
/// gateway's cookies.
pub fn identity_data() -> BTreeMap<String, String> {
    let keys = atelier_identity::IdentityKeys::generate();
    let signer = keys.signer().expect("generated keys can sign");
    BTreeMap::from([
        ("signing-key".into(), keys.signing_key_b64().unwrap_or_default()),
        ("verifying-key".into(), keys.verifying_key_b64()),
        ("service-token".into(), signer.service_token("order")),
        ("gateway-token".into(), signer.service_token("gateway")),
        ("gateway-key".into(), gateway_key()),
    ])
}

fn gateway_key() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The identity Secret's data with a fresh order-service token when the one
/// it holds expires within [`SERVICE_TOKEN_RENEW_BEFORE`] (or is not valid),
/// and with a gateway key if it has none (Secrets made before there was
/// one): None when it is fine. The keys stay; the old token stays valid
/// until its own expiry, so order pods rolling onto the new one never fail.
///
/// [`SERVICE_TOKEN_RENEW_BEFORE`]: atelier_identity::SERVICE_TOKEN_RENEW_BEFORE
pub fn completed_identity(secret: &Secret) -> Option<BTreeMap<String, String>> {
    let data: BTreeMap<String, String> =
        secret.data.as_ref()?.iter().map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned())).collect();
    let keys = atelier_identity::IdentityKeys::from_signing_b64(data.get("signing-key")?).ok()?;
    let renew_after = atelier_identity::now_ms() + atelier_identity::SERVICE_TOKEN_RENEW_BEFORE.as_millis() as i64;
    let due: Vec<(&str, &str)> = SERVICE_TOKENS
        .into_iter()
        .filter(|(key, _)| {
            let current = data.get(*key).and_then(|t| keys.verifier().verify(t).ok());
            current.is_none_or(|id| id.exp <= renew_after)
        })
        .collect();
    let key_missing = !data.contains_key("gateway-key");
    if due.is_empty() && !key_missing {
        return None;
    }
    let mut data = data;
    let signer = keys.signer()?;
    for (key, service) in due {
        data.insert(key.into(), signer.service_token(service));
    }
    if key_missing {
        data.insert("gateway-key".into(), gateway_key());
    }
    Some(data)
}

/// The admin password of a shop without demo accounts.
pub fn admin_data() -> BTreeMap<String, String> {
    BTreeMap::from([("password".to_string(), random_password())])
}

/// One login per service on the managed database, and its URL.
pub fn database_data(shop: &Shop) -> BTreeMap<String, String> {
    let host = builders::name(shop, "db");
    let mut data = BTreeMap::from([("postgres-password".to_string(), random_password())]);
    for s in SERVICES {
        let password = random_password();
        data.insert(format!("{s}-url"), format!("postgres://{s}:{password}@{host}:5432/{s}"));
        data.insert(format!("{s}-password"), password);
    }
    data
}

/// The generated Secret `<shop>-<suffix>` holding `data`.
pub fn secret(shop: &Shop, suffix: &str, data: BTreeMap<String, String>) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(builders::name(shop, suffix)),
            namespace: shop.namespace(),
            labels: Some(builders::labels(shop, "secrets")),
            owner_references: shop.controller_owner_ref(&()).map(|o| vec![o]),
            ..Default::default()
        },
        type_: Some("Opaque".into()),
        data: Some(data.into_iter().map(|(k, v)| (k, ByteString(v.into_bytes()))).collect()),
        ..Default::default()
    }
}

/// Returns the Secret `<shop>-<suffix>`, creating it from `generate()` if it
/// is missing.
pub async fn ensure(
    client: &Client,
    shop: &Shop,
    suffix: &str,
    generate: impl FnOnce() -> BTreeMap<String, String>,
) -> kube::Result<Secret> {
    let ns = shop.namespace().unwrap_or_default();
    let api: Api<Secret> = Api::namespaced(client.clone(), &ns);
    if let Some(existing) = api.get_opt(&builders::name(shop, suffix)).await? {
        return Ok(existing);
    }
    let secret = secret(shop, suffix, generate());
    match api.create(&PostParams::default(), &secret).await {
        Ok(created) => Ok(created),
        // Created meanwhile by another reconcile: keep that one.
        Err(kube::Error::Api(e)) if e.code == 409 => api.get(&secret.name_any()).await,
        Err(e) => Err(e),
    }
}

/// A fingerprint of Secret contents, for the rollout annotation.
pub fn fingerprint(secrets: &[&Secret]) -> String {
    let mut parts = vec![];
    for s in secrets {
        for (k, v) in s.data.iter().flatten() {
            parts.push(format!("{}/{k}={}", s.name_any(), String::from_utf8_lossy(&v.0)));
        }
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    crate::checksum(&refs)
}

/// Replaces the order service's token in the identity Secret when it is due
/// (see [`completed_identity`]); the Secret as it now is, and whether it
/// changed. The replace carries the read resourceVersion: a concurrent
/// change makes it fail and the next reconcile looks again.
pub async fn rotate_service_token(client: &Client, identity: Secret) -> kube::Result<(Secret, bool)> {
    let Some(data) = completed_identity(&identity) else { return Ok((identity, false)) };
    let api: Api<Secret> = Api::namespaced(client.clone(), &identity.namespace().unwrap_or_default());
    let mut rotated = identity.clone();
    rotated.data = Some(data.into_iter().map(|(k, v)| (k, ByteString(v.into_bytes()))).collect());
    rotated.string_data = None;
    let replaced = api.replace(&identity.name_any(), &PostParams::default(), &rotated).await?;
    Ok((replaced, true))
}
