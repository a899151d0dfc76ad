//! The key that signs the gateway's own cookies (the flash message), so that
//! a cookie the gateway did not write is never shown as if it had. Every
//! gateway replica must share it (`ATELIER_GATEWAY_KEY`; the operator
//! generates it); a single process without one uses a random key.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::OnceLock;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

static KEY: OnceLock<Vec<u8>> = OnceLock::new();

/// Sets the key from its base64 form (at least 32 bytes); once, at start-up.
pub fn set_from_base64(encoded: &str) -> anyhow::Result<()> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| anyhow::anyhow!("ATELIER_GATEWAY_KEY is not base64"))?;
    anyhow::ensure!(key.len() >= 32, "ATELIER_GATEWAY_KEY must hold at least 32 bytes");
    KEY.set(key).map_err(|_| anyhow::anyhow!("the gateway key was already set"))
}

fn key() -> &'static [u8] {
    KEY.get_or_init(|| {
        use rand::RngCore as _;
        let mut key = vec![0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        key
    })
}

fn mac(payload: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key()).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    mac
}

/// `base64(payload).base64(tag)`: only URL-safe characters, so no cookie
/// parser's percent-decoding can change what was signed.
pub fn sign(payload: &str) -> String {
    let tag = mac(payload).finalize().into_bytes();
    format!("{}.{}", B64.encode(payload), B64.encode(tag))
}

/// The payload of a value [`sign`] produced; None for anything else.
pub fn verify(value: &str) -> Option<String> {
    let (payload, tag) = value.split_once('.')?;
    let payload = String::from_utf8(B64.decode(payload).ok()?).ok()?;
    mac(&payload).verify_slice(&B64.decode(tag).ok()?).ok()?;
    Some(payload)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_signed_values_verify() {
        let signed = super::sign("k=error&m=hello");
        assert_eq!(super::verify(&signed).as_deref(), Some("k=error&m=hello"));
        assert_eq!(super::verify("k=error&m=made+up"), None);
        let other = super::sign("k=error&m=HELLO");
        let tampered = format!("{}.{}", other.split_once('.').unwrap().0, signed.split_once('.').unwrap().1);
        assert_eq!(super::verify(&tampered), None);
    }
}
