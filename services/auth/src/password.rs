//! argon2id hashing, off the async runtime: a hash takes tens of
//! milliseconds of CPU. It runs on a few dedicated threads, one per CPU (at
//! most four): each hash needs 19 MiB, and a thread's allocator arena keeps
//! what it once held, so a bounded set of threads bounds the memory (on the
//! unbounded blocking pool a login storm grew the service past 120 MiB).
//! Each thread also keeps its argon2 memory for the next hash rather than
//! allocating it anew: glibc served those repeated large allocations from
//! arenas it never returned. Parameters: OWASP's m = 9 MiB, t = 4, p = 1.

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{Output, ParamsString, Salt, SaltString, rand_core::OsRng},
};
use std::cell::RefCell;
use std::sync::{Mutex, OnceLock, mpsc};

type Job = Box<dyn FnOnce() + Send>;

/// Runs `job` on one of the hashing threads.
async fn on_hashing_thread<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    static QUEUE: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = std::sync::Arc::new(Mutex::new(receiver));
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
        for i in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        let next = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match next {
                            Ok(job) => job(),
                            Err(_) => break,
                        }
                    }
                })
                .expect("starting a hashing thread");
        }
        sender
    });
    let (done, result) = tokio::sync::oneshot::channel();
    queue
        .send(Box::new(move || {
            let _ = done.send(job());
        }))
        .map_err(|_| anyhow::anyhow!("the hashing threads are gone"))?;
    Ok(result.await?)
}

/// New hashes: argon2id, 9 MiB, 4 passes, 1 lane (an OWASP-recommended set).
fn hasher() -> Argon2<'static> {
    let params = Params::new(9 * 1024, 4, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

thread_local! {
    /// This hashing thread's argon2 memory, reused hash after hash.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// The raw argon2 output for `password` and `salt`, in this thread's memory.
fn compute(argon2: &Argon2<'_>, password: &[u8], salt: Salt<'_>, len: usize) -> argon2::password_hash::Result<Output> {
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    MEMORY.with_borrow_mut(|memory| {
        let blocks = argon2.params().block_count();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        Output::init_with(len, |out| {
            argon2
                .hash_password_into_with_memory(password, salt_bytes, out, &mut memory[..blocks])
                .map_err(|_| argon2::password_hash::Error::Crypto)
        })
    })
}

fn hash_now(password: &[u8]) -> argon2::password_hash::Result<String> {
    let argon2 = hasher();
    let salt = SaltString::generate(&mut OsRng);
    let hash = compute(&argon2, password, salt.as_salt(), Params::DEFAULT_OUTPUT_LEN)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(hash),
    };
    Ok(phc.to_string())
}

/// Checks `password` against a stored PHC string, with the parameters it names.
fn verify_now(password: &[u8], stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) =
        (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed), parsed.salt, parsed.hash)
    else {
        return false;
    };
    let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from).unwrap_or(Version::V0x13);
    let argon2 = Argon2::new(algorithm, version, params);
    // Output compares in constant time.
    compute(&argon2, password, salt, expected.len()).is_ok_and(|computed| computed == expected)
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    on_hashing_thread(move || hash_now(password.as_bytes()).map_err(|e| anyhow::anyhow!("hashing failed: {e}"))).await?
}

/// Checks a password; with no stored hash (unknown user) it checks against a
/// dummy hash anyway, so the answer takes as long either way.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let known = stored.is_some();
    let ok = on_hashing_thread(move || {
        let stored = stored
            .unwrap_or_else(|| DUMMY.get_or_init(|| hash_now(b"not a password").expect("hashing a constant")).clone());
        verify_now(password.as_bytes(), &stored)
    })
    .await
    .unwrap_or(false);
    ok && known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_keep_their_parameters() {
        let stored = hash_now(b"correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=9216,t=4,p=1$"), "{stored}");
        assert!(verify_now(b"correct horse", &stored));
        assert!(!verify_now(b"correct horsE", &stored));
        assert!(!verify_now(b"correct horse", "not a hash"));
    }

    #[test]
    fn hashes_made_with_other_parameters_still_verify() {
        use argon2::PasswordHasher as _;
        let salt = SaltString::generate(&mut OsRng);
        let legacy = Argon2::default().hash_password(b"demo123", &salt).unwrap().to_string();
        assert!(legacy.contains("m=19456,t=2,p=1"));
        assert!(verify_now(b"demo123", &legacy));
        assert!(!verify_now(b"demo124", &legacy));
    }
}
