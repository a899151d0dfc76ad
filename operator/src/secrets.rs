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

/// The identity key pair and the order service's token.
pub fn identity_data() -> BTreeMap<String, String> {
    let keys = atelier_identity::IdentityKeys::generate();
    let signer = keys.signer().expect("generated keys can sign");
    BTreeMap::from([
        ("signing-key".into(), keys.signing_key_b64().unwrap_or_default()),
        ("verifying-key".into(), keys.verifying_key_b64()),
        ("service-token".into(), signer.service_token("order")),
    ])
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
