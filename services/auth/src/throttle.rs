//! Failed-login limits, per account and per client address. Only failures
//! count, so many people logging in from one office address are not blocked;
//! a successful login clears its account's count. Kept in memory per auth
//! replica: a restart forgives.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

pub struct LoginThrottle {
    windows: Mutex<HashMap<String, (u32, Instant)>>,
    per_account: u32,
    per_address: u32,
    window: Duration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(5, 50, Duration::from_secs(15 * 60))
    }
}

impl LoginThrottle {
    pub fn new(per_account: u32, per_address: u32, window: Duration) -> Self {
        Self { windows: Mutex::default(), per_account, per_address, window }
    }

    fn keys(username: &str, address: Option<&str>) -> Vec<(String, bool)> {
        let mut keys = vec![(format!("user:{}", username.trim().to_lowercase()), true)];
        if let Some(a) = address.filter(|a| !a.is_empty()) {
            keys.push((format!("addr:{a}"), false));
        }
        keys
    }

    /// `Err(wait)` when this account or address must wait before trying again.
    pub fn check(&self, username: &str, address: Option<&str>) -> Result<(), Duration> {
        let now = Instant::now();
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = Duration::ZERO;
        for (key, account) in Self::keys(username, address) {
            let limit = if account { self.per_account } else { self.per_address };
            if let Some((count, start)) = windows.get(&key)
                && *count >= limit
                && now < *start + self.window
            {
                wait = wait.max(*start + self.window - now);
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    pub fn failed(&self, username: &str, address: Option<&str>) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 100_000 {
            let window = self.window;
            windows.retain(|_, (_, start)| now < *start + window);
        }
        for (key, _) in Self::keys(username, address) {
            let entry = windows.entry(key).or_insert((0, now));
            if now >= entry.1 + self.window {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }

    pub fn succeeded(&self, username: &str) {
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&format!("user:{}", username.trim().to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_locked_after_its_failures_only() {
        let t = LoginThrottle::new(3, 10, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(t.check("ada", Some("10.0.0.1")).is_ok());
            t.failed("ada", Some("10.0.0.1"));
        }
        let wait = t.check("ADA", Some("10.9.9.9")).unwrap_err();
        assert!(wait > Duration::from_secs(50));
        assert!(t.check("bob", Some("10.0.0.1")).is_ok(), "others from the same address still log in");
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let t = LoginThrottle::new(100, 4, Duration::from_secs(60));
        for i in 0..4 {
            t.failed(&format!("user{i}"), Some("192.0.2.7"));
        }
        assert!(t.check("someone", Some("192.0.2.7")).is_err());
        assert!(t.check("someone", Some("192.0.2.8")).is_ok());
    }

    #[test]
    fn success_clears_the_account() {
        let t = LoginThrottle::new(2, 10, Duration::from_secs(60));
        t.failed("cy", None);
        t.succeeded("cy");
        t.failed("cy", None);
        assert!(t.check("cy", None).is_ok());
    }
}
