//! Failed-login limits that an attacker cannot turn against the account's
//! owner (OWASP Authentication Cheat Sheet, "Login throttling"; NIST SP
//! 800-63B §5.2.2, "Rate limiting"):
//!
//! - per account *and* address: after 5 failures that pair waits, 30 s
//!   doubling with each further failure up to 15 min. Failures from one
//!   address never lock the owner out elsewhere.
//! - per address: 50 failures in 15 min across accounts (password spraying)
//!   and the address waits out the window.
//! - per account from everywhere: 100 failures in 15 min (NIST's ceiling for
//!   a distributed guesser) and the account waits out the window; no single
//!   address can reach it on its own.
//!
//! Only failures count; a success clears its pair and its account. Kept in
//! memory per auth replica: a restart forgives.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first: Instant,
    last: Instant,
}

pub struct Limits {
    /// Failures of one account from one address before delays start.
    pub per_pair: u32,
    pub per_address: u32,
    pub per_account: u32,
    pub window: Duration,
    /// The first delay of a pair; it doubles per further failure.
    pub first_delay: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_pair: 5,
            per_address: 50,
            per_account: 100,
            window: Duration::from_secs(15 * 60),
            first_delay: Duration::from_secs(30),
        }
    }
}

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Failures>>,
    limits: Limits,
}

enum Key {
    Pair,
    Address,
    Account,
}

impl LoginThrottle {
    #[cfg(test)]
    pub fn new(limits: Limits) -> Self {
        Self { failures: Mutex::default(), limits }
    }

    fn keys(username: &str, address: Option<&str>) -> Vec<(String, Key)> {
        let user = username.trim().to_lowercase();
        let address = address.filter(|a| !a.is_empty()).unwrap_or("unknown");
        vec![
            (format!("pair:{user}@{address}"), Key::Pair),
            (format!("addr:{address}"), Key::Address),
            (format!("user:{user}"), Key::Account),
        ]
    }

    /// `Err(wait)` when this account, from this address, must wait.
    pub fn check(&self, username: &str, address: Option<&str>) -> Result<(), Duration> {
        let now = Instant::now();
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let l = &self.limits;
        let mut wait = Duration::ZERO;
        for (key, kind) in Self::keys(username, address) {
            let Some(f) = failures.get(&key) else { continue };
            let until = match kind {
                Key::Pair if f.count >= l.per_pair => {
                    let doublings = (f.count - l.per_pair).min(16);
                    f.last + (l.first_delay * 2u32.pow(doublings)).min(l.window)
                }
                Key::Address if f.count >= l.per_address => f.first + l.window,
                Key::Account if f.count >= l.per_account => f.first + l.window,
                _ => continue,
            };
            wait = wait.max(until.saturating_duration_since(now));
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    pub fn failed(&self, username: &str, address: Option<&str>) {
        let now = Instant::now();
        let window = self.limits.window;
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > 100_000 {
            failures.retain(|_, f| now < f.last + window);
        }
        for (key, _) in Self::keys(username, address) {
            let f = failures.entry(key).or_insert(Failures { count: 0, first: now, last: now });
            if now >= f.last + window {
                *f = Failures { count: 0, first: now, last: now };
            }
            f.count += 1;
            f.last = now;
        }
    }

    pub fn succeeded(&self, username: &str, address: Option<&str>) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for (key, kind) in Self::keys(username, address) {
            if !matches!(kind, Key::Address) {
                failures.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits { per_pair: 3, per_address: 10, per_account: 6, ..Limits::default() }
    }

    #[test]
    fn failures_from_one_address_do_not_lock_the_owner_out_elsewhere() {
        let t = LoginThrottle::new(limits());
        for _ in 0..3 {
            assert!(t.check("ada", Some("10.0.0.1")).is_ok());
            t.failed("ada", Some("10.0.0.1"));
        }
        let wait = t.check("ADA", Some("10.0.0.1")).unwrap_err();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30), "{wait:?}");
        assert!(t.check("ada", Some("10.9.9.9")).is_ok(), "the owner elsewhere");
        assert!(t.check("bob", Some("10.0.0.1")).is_ok(), "others from the same address");
    }

    #[test]
    fn delays_grow_with_each_further_failure() {
        let t = LoginThrottle::new(limits());
        for _ in 0..5 {
            t.failed("ada", Some("10.0.0.1"));
        }
        let wait = t.check("ada", Some("10.0.0.1")).unwrap_err();
        assert!(wait > Duration::from_secs(115) && wait <= Duration::from_secs(120), "30 s × 2 × 2: {wait:?}");
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let t = LoginThrottle::new(limits());
        for i in 0..10 {
            t.failed(&format!("user{i}"), Some("192.0.2.7"));
        }
        assert!(t.check("someone", Some("192.0.2.7")).is_err());
        assert!(t.check("someone", Some("192.0.2.8")).is_ok());
    }

    #[test]
    fn a_distributed_guesser_is_limited_per_account() {
        let t = LoginThrottle::new(limits());
        for i in 0..6 {
            t.failed("ada", Some(&format!("192.0.2.{i}")));
        }
        assert!(t.check("ada", Some("198.51.100.1")).is_err());
    }

    #[test]
    fn success_clears_the_pair_and_the_account() {
        let t = LoginThrottle::new(limits());
        for _ in 0..3 {
            t.failed("cy", None);
        }
        t.succeeded("cy", None);
        t.failed("cy", None);
        assert!(t.check("cy", None).is_ok());
    }
}
