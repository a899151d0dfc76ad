//! Input rules for accounts.

use atelier_runtime::ServiceError;

pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 128;

pub fn username(s: &str) -> Result<&str, ServiceError> {
    let s = s.trim();
    let ok = (3..=32).contains(&s.chars().count())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(s)
    } else {
        Err(ServiceError::invalid("username must be 3 to 32 characters: letters, digits, '.', '_' or '-'"))
    }
}

pub fn password(s: &str) -> Result<(), ServiceError> {
    let n = s.chars().count();
    if n < MIN_PASSWORD {
        Err(ServiceError::invalid(format!("password must be at least {MIN_PASSWORD} characters")))
    } else if n > MAX_PASSWORD {
        Err(ServiceError::invalid(format!("password must be at most {MAX_PASSWORD} characters")))
    } else if zxcvbn::zxcvbn(s, &[]).score() == zxcvbn::Score::Zero {
        // Among the first thousand guesses of any attacker: "password",
        // "12345678", "aaaaaaaa", keyboard walks.
        Err(ServiceError::invalid("password is too easy to guess: choose a few unrelated words"))
    } else {
        Ok(())
    }
}

pub fn email(s: &str) -> Result<String, ServiceError> {
    let s = s.trim().to_lowercase();
    let ok = s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ','))
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok { Ok(s) } else { Err(ServiceError::invalid("email address is not valid")) }
}

pub fn phone(s: &str) -> Result<&str, ServiceError> {
    let s = s.trim();
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let ok = (6..=20).contains(&s.len())
        && digits >= 6
        && s.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'));
    if ok {
        Ok(s)
    } else {
        Err(ServiceError::invalid("phone number must be 6 to 20 characters of digits, spaces, '+', '-', '(' or ')'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easily_guessed_passwords_are_refused() {
        for weak in ["password", "12345678", "aaaaaaaa", "qwertyuiop", "password1"] {
            assert!(password(weak).is_err(), "{weak} is refused");
        }
        for fine in ["a good password", "correct horse", "long enough", "storm password", "load-test-password"] {
            assert!(password(fine).is_ok(), "{fine} is accepted");
        }
    }

    #[test]
    fn accepts_and_refuses() {
        assert!(username("demo-client").is_ok());
        assert!(username("ab").is_err());
        assert!(username("<script>").is_err());
        assert!(password("1234567").is_err());
        assert!(password("tz7#Kq2m").is_ok(), "eight characters are enough when they are not a common pattern");
        assert_eq!(email(" Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in ["", "a@", "@b.c", "a@b", "a b@c.d", "a@@b.c", "a@b.c."] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert!(phone("0000000000").is_ok());
        assert!(phone("+39 055 123456").is_ok());
        assert!(phone("12ab5678").is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn accepted_usernames_follow_the_rule(s in "\\PC{0,40}") {
            if let Ok(u) = username(&s) {
                prop_assert!((3..=32).contains(&u.chars().count()));
                prop_assert!(u.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')));
            }
        }

        #[test]
        fn accepted_emails_are_lowercase_and_have_one_at(s in "\\PC{0,60}") {
            if let Ok(e) = email(&s) {
                prop_assert_eq!(e.matches('@').count(), 1);
                prop_assert_eq!(e.to_lowercase(), e.clone());
                prop_assert!(!e.contains(char::is_whitespace));
            }
        }

        #[test]
        fn password_length_is_enforced(s in "\\PC{0,200}") {
            let n = s.chars().count();
            if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
                prop_assert!(password(&s).is_err());
            }
        }
    }
}
