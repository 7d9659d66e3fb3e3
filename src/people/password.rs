//! Passwords: Argon2id with parameters a Raspberry Pi 4 checks in well
//! under half a second (19 MiB, 2 passes, 1 lane: the OWASP baseline), as
//! PHC strings; random secrets for tokens and sessions, stored as SHA-256
//! digests.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

/// Shortest password accepted.
pub const MIN_LEN: usize = 8;
/// Longest password looked at (hashing cost is per byte of input too).
pub const MAX_LEN: usize = 1024;

/// Argon2 runs at once at most (each takes 19 MiB and tens of
/// milliseconds): a flood of sign-ins queues instead of taking memory.
const AT_ONCE: usize = 2;
static RUNNING: std::sync::Mutex<usize> = std::sync::Mutex::new(0);
static FREED: std::sync::Condvar = std::sync::Condvar::new();

/// Runs `f` when fewer than `AT_ONCE` others are hashing (blocking).
fn gated<T>(f: impl FnOnce() -> T) -> T {
    let lock = |m: &'static std::sync::Mutex<usize>| m.lock().unwrap_or_else(|p| p.into_inner());
    {
        let mut n = lock(&RUNNING);
        while *n >= AT_ONCE {
            n = FREED.wait(n).unwrap_or_else(|p| p.into_inner());
        }
        *n += 1;
    }
    // Given back even if `f` panics.
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            *RUNNING.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
            FREED.notify_one();
        }
    }
    let _done = Done;
    f()
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password` with a fresh salt.
pub fn hash(password: &str) -> Result<String, String> {
    if password.chars().count() < MIN_LEN {
        return Err(format!("a password has at least {MIN_LEN} characters"));
    }
    if password.len() > MAX_LEN {
        return Err(format!("a password has at most {MAX_LEN} bytes"));
    }
    gated(|| argon2().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string()))
}

/// Sign-in checks running at once at most: taken (asynchronously) before
/// a check goes to the blocking pool, so waiting sign-ins hold no thread.
pub static SIGN_INS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(AT_ONCE);

/// Whether `password` matches `phc` (the comparison is constant-time).
/// Without `phc` (no such account, or one without a password) the same
/// work is done against a hash of a random secret, so an unknown name
/// answers in the time of a known one. Not gated: hold a `SIGN_INS`
/// permit.
pub fn verify(password: &str, phc: Option<&str>) -> bool {
    let password = if password.len() <= MAX_LEN { password } else { "" };
    let against = phc.unwrap_or_else(|| stand_in().as_str());
    let matched = argon2().verify_password(password.as_bytes(), against).is_ok();
    matched && phc.is_some()
}

/// The hash unknown names are checked against (made once per process).
fn stand_in() -> &'static String {
    static STAND_IN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    STAND_IN.get_or_init(|| hash(&secret()).expect("a random secret is a valid password"))
}

/// A new random secret (256 bits), hex.
pub fn secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system's random source works");
    hex(&bytes)
}

/// The SHA-256 digest of a secret, hex: what is stored.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_never_hold_the_password() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(verify("correct horse", Some(&h)));
        assert!(!verify("correct horsE", Some(&h)));
        assert!(!verify("x", Some("not a hash")));
        assert!(!verify("correct horse", None));
        assert!(!verify(&"x".repeat(MAX_LEN + 1), Some(&h)));
        assert!(hash("short").is_err());
        assert_ne!(secret(), secret());
        assert_eq!(digest("a").len(), 64);
    }
}
