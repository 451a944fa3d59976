//! Password and client-secret hashing: only salted argon2 hashes are stored. Each hash
//! needs ~19 MiB of working memory and tens of milliseconds of CPU, so at most a few run at
//! once: a hash waits for a *turn*, and each turn owns its working memory, allocated once
//! and reused. A flood of login attempts therefore makes callers wait (or, past a bound,
//! answer 503), and the server's memory stays flat: fresh 19 MiB buffers per attempt would
//! be kept by the allocator's per-thread arenas long after they are freed.

use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{Decimal, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// How long a check waits for a turn before the caller is told the server is busy.
const VERIFY_WAIT: Duration = Duration::from_secs(10);
/// The most turns, whatever the core count: each holds its working memory for good.
const MAX_TURNS: usize = 8;

/// The turns: one working memory each (empty until first used).
struct Turns {
    free: Mutex<Vec<Vec<Block>>>,
    freed: Condvar,
}

fn turns() -> &'static Turns {
    static TURNS: OnceLock<Turns> = OnceLock::new();
    TURNS.get_or_init(|| {
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(2, MAX_TURNS);
        Turns {
            free: Mutex::new(vec![Vec::new(); n]),
            freed: Condvar::new(),
        }
    })
}

/// A turn to hash, with its working memory; given back when dropped.
struct Turn(Vec<Block>);

impl Turn {
    /// Waits for a turn, at most `wait` (`None`: as long as it takes).
    fn take(wait: Option<Duration>) -> Option<Turn> {
        let t = turns();
        let deadline = wait.map(|w| Instant::now() + w);
        let mut free = t.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(memory) = free.pop() {
                return Some(Turn(memory));
            }
            free = match deadline {
                None => t.freed.wait(free).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let left = d.checked_duration_since(Instant::now())?;
                    t.freed
                        .wait_timeout(free, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Argon2 of `password` and `salt` with `argon`'s parameters into `out`.
    fn hash_into(
        &mut self,
        argon: &Argon2,
        params: &Params,
        password: &str,
        salt: &[u8],
        out: &mut [u8],
    ) -> argon2::Result<()> {
        let blocks = params.block_count();
        if self.0.len() < blocks {
            self.0.resize(blocks, Block::default());
        }
        argon.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut self.0[..blocks])
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let t = turns();
        let memory = std::mem::take(&mut self.0);
        t.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(memory);
        t.freed.notify_one();
    }
}

/// Too many checks are queued: the caller should answer 503 and let the client retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// A PHC string (`$argon2id$v=19$m=...`) of `password` with a fresh salt and the default
/// parameters.
pub fn hash(password: &str) -> String {
    let mut turn = Turn::take(None).expect("waiting without a deadline always gets a turn");
    let salt = SaltString::generate(&mut rand_core::OsRng);
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut raw = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut raw).expect("a generated salt decodes");
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    turn.hash_into(&argon, &params, password, salt_bytes, &mut out)
        .expect("argon2 with default parameters cannot fail");
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Decimal::from(Version::V0x13)),
        params: ParamsString::try_from(&params).expect("default parameters encode"),
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).expect("default output length")),
    }
    .to_string()
}

/// Whether `password` matches the PHC string `hash` (compared in constant time);
/// `Err(Busy)` when no turn came in time.
pub fn verify(password: &str, hash: &str) -> Result<bool, Busy> {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return Ok(false);
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return Ok(false);
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return Ok(false),
    };
    let mut raw = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut raw) else {
        return Ok(false);
    };
    let mut turn = Turn::take(Some(VERIFY_WAIT)).ok_or(Busy)?;
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    if turn
        .hash_into(&argon, &params, password, salt, &mut out)
        .is_err()
    {
        return Ok(false);
    }
    // `Output`'s equality is constant-time.
    Ok(Output::new(&out).is_ok_and(|o| o == expected))
}

/// A hash no password matches, to check against when there is no account or client, so
/// that the time taken does not tell which names exist.
pub fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash(&random()))
}

/// A random password (for accounts created without one).
pub fn random() -> String {
    use rand_core::RngCore;
    let mut bytes = [0u8; 18];
    rand_core::OsRng.fill_bytes(&mut bytes);
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_bound_concurrent_hashing() {
        let all = turns().free.lock().unwrap().len();
        let held: Vec<Turn> = (0..all).filter_map(|_| Turn::take(None)).collect();
        assert!(Turn::take(Some(Duration::from_millis(20))).is_none());
        drop(held);
        assert!(Turn::take(Some(Duration::from_millis(20))).is_some());
        assert_eq!(verify("x", &hash("x")), Ok(true));
        assert_eq!(verify("y", dummy_hash()), Ok(false));
        assert_eq!(verify("y", "not a hash"), Ok(false));
    }

    #[test]
    fn hashes_of_the_argon2_crate_still_verify() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::generate(&mut rand_core::OsRng);
        let stored = Argon2::default()
            .hash_password(b"old-password", &salt)
            .unwrap()
            .to_string();
        assert_eq!(verify("old-password", &stored), Ok(true));
        assert_eq!(verify("other", &stored), Ok(false));
        // And ours verify with the crate's own verifier.
        use argon2::password_hash::PasswordVerifier;
        let ours = hash("new-password");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"new-password", &parsed)
                .is_ok()
        );
    }
}
