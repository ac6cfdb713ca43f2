//! Hashing and checking Support PINs and rep passphrases with argon2id.
//!
//! New Support PIN hashes are argon2id, m=19456 KiB, t=2, p=1 (OWASP's minimum), 32-byte output,
//! 16-byte random salt, keyed with the [`PinKey`]. Hashes made elsewhere (another argon2
//! implementation, weaker parameters, no key) are checked with their own parameters, and replaced
//! by a keyed hash at our parameters at the next match (a match always rotates the PIN).

use super::pin::Pin;
use super::pin_key::{PinKey, fill_secure};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory cost of new hashes, KiB.
pub const M_COST: u32 = 19_456;
/// Time cost (passes) of new hashes.
pub const T_COST: u32 = 2;
/// Parallelism of new hashes.
pub const P_COST: u32 = 1;
/// Output length of new hashes, bytes.
pub const OUTPUT_LEN: usize = 32;
/// Largest memory cost we agree to run when checking a foreign hash (KiB): a hash asking for more
/// would stall every check of that account.
pub const MAX_FOREIGN_M_COST: u32 = 262_144;
/// Largest time cost we agree to run when checking a foreign hash.
pub const MAX_FOREIGN_T_COST: u32 = 16;

fn our_params() -> Params {
    // The constants are within argon2's bounds, so building them cannot fail.
    #[allow(clippy::expect_used)]
    Params::new(M_COST, T_COST, P_COST, Some(OUTPUT_LEN)).expect("constant argon2 parameters")
}

/// What a stored hash is and whether it can be checked here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashInfo {
    /// `argon2id`, `argon2i` or `argon2d`.
    pub algorithm: String,
    /// Memory cost, KiB.
    pub m_cost: u32,
    /// Time cost.
    pub t_cost: u32,
    /// Parallelism.
    pub p_cost: u32,
    /// True when the parameters are weaker than ours or the variant is not argon2id.
    pub weaker_than_ours: bool,
}

/// Reads a PHC string and says whether our verifier can check it. The reason in `Err` names what is
/// wrong with the hash's form, never its content.
pub fn inspect(phc: &str) -> Result<HashInfo, String> {
    let trimmed = phc.trim();
    if !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_digit()) {
        return Err("holds digits, not a hash: a plaintext PIN is never accepted".into());
    }
    let parsed = PasswordHash::new(trimmed).map_err(|_| "is not a PHC hash string".to_string())?;
    let algorithm = parsed.algorithm.as_str().to_string();
    if Algorithm::try_from(algorithm.as_str()).is_err() {
        return Err(format!("uses {algorithm}, not argon2"));
    }
    match parsed.version {
        Some(0x13) | None => {}
        Some(v) => return Err(format!("uses argon2 version {v}; only version 19 is supported")),
    }
    let params = Params::try_from(&parsed).map_err(|_| "has unreadable argon2 parameters".to_string())?;
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err("has no salt or no hash output".into());
    }
    if params.m_cost() > MAX_FOREIGN_M_COST || params.t_cost() > MAX_FOREIGN_T_COST {
        return Err(format!(
            "asks for m={} KiB, t={}; above the {} KiB / t={} this desk will run per check",
            params.m_cost(),
            params.t_cost(),
            MAX_FOREIGN_M_COST,
            MAX_FOREIGN_T_COST
        ));
    }
    let weaker_than_ours =
        algorithm != "argon2id" || params.m_cost() < M_COST || params.t_cost() < T_COST;
    Ok(HashInfo {
        algorithm,
        m_cost: params.m_cost(),
        t_cost: params.t_cost(),
        p_cost: params.p_cost(),
        weaker_than_ours,
    })
}

/// A well-formed hash at our parameters that no input matches (its output is not the hash of
/// anything known). Checking against it costs exactly what checking a real hash costs, so an
/// unknown account, an account without a PIN, or an unknown rep take as long as a wrong secret.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3VwcG9ydC1kZXNrLWRteQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Makes and checks Support PIN hashes with the desk's key. Older keys (after `key rotate`) only
/// check the hashes they made; every match re-hashes with the current key.
pub struct PinHasher {
    key: PinKey,
    key_id: String,
    older: Vec<(String, PinKey)>,
}

impl PinHasher {
    /// A hasher keyed with `key`.
    pub fn new(key: PinKey) -> PinHasher {
        PinHasher::with_older(key, Vec::new())
    }

    /// A hasher making hashes with `key` and still checking hashes made with `older` keys.
    pub fn with_older(key: PinKey, older: Vec<PinKey>) -> PinHasher {
        let key_id = key.id();
        let older = older.into_iter().map(|k| (k.id(), k)).collect();
        PinHasher { key, key_id, older }
    }

    /// The ids of the older keys this hasher still checks.
    pub fn older_key_ids(&self) -> Vec<&str> {
        self.older.iter().map(|(id, _)| id.as_str()).collect()
    }

    /// The public fingerprint of the key, stored beside each hash it made.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    fn keyed(&self) -> Result<Argon2<'_>, argon2::Error> {
        argon2_keyed(&self.key)
    }

    /// A new keyed argon2id PHC string for `pin`, with a fresh random salt.
    pub fn hash(&self, pin: &Pin) -> String {
        let mut salt = [0u8; 16];
        fill_secure(&mut salt);
        // Our parameters, a 32-byte key and a 16-byte salt are all within argon2's limits.
        #[allow(clippy::expect_used)]
        self.keyed()
            .expect("key length is within argon2's limit")
            .hash_password_with_salt(pin.expose(), &salt)
            .expect("argon2 with constant parameters")
            .to_string()
    }

    /// True when `pin` matches the stored hash. `keyed_with` is the key id recorded with the hash
    /// (`None` for a hash made without a key, e.g. imported). A hash made with another key, or one
    /// this desk cannot check, does not match.
    pub fn verify(&self, pin: &Pin, phc: &str, keyed_with: Option<&str>) -> bool {
        if inspect(phc).is_err() {
            self.burn(pin);
            return false;
        }
        let Ok(parsed) = PasswordHash::new(phc.trim()) else {
            return false;
        };
        match keyed_with {
            Some(id) if id == self.key_id => match self.keyed() {
                Ok(a) => a.verify_password(pin.expose(), &parsed).is_ok(),
                Err(_) => false,
            },
            Some(id) if self.older.iter().any(|(old, _)| old == id) => {
                match self.older.iter().find(|(old, _)| old == id).map(|(_, k)| argon2_keyed(k)) {
                    Some(Ok(a)) => a.verify_password(pin.expose(), &parsed).is_ok(),
                    _ => false,
                }
            }
            Some(_) => {
                self.burn(pin);
                false
            }
            None => Argon2::default().verify_password(pin.expose(), &parsed).is_ok(),
        }
    }

    /// Spends the time of one check against a hash nobody holds, so that "no such account" and
    /// "no PIN set" take as long as "wrong PIN".
    pub fn burn(&self, pin: &Pin) {
        if let (Ok(a), Ok(parsed)) = (self.keyed(), PasswordHash::new(DUMMY_PHC)) {
            let _ = a.verify_password(pin.expose(), &parsed);
        }
    }
}

fn argon2_keyed(key: &PinKey) -> Result<Argon2<'_>, argon2::Error> {
    Argon2::new_with_secret(key.expose(), Algorithm::Argon2id, Version::V0x13, our_params())
}

/// Hashes a rep's passphrase (argon2id at our parameters, unkeyed: reps must be able to sign in to
/// tell an admin the key file is missing).
pub fn hash_passphrase(passphrase: &str) -> String {
    let mut salt = [0u8; 16];
    fill_secure(&mut salt);
    // Constant parameters and a 16-byte salt are within argon2's limits.
    #[allow(clippy::expect_used)]
    Argon2::new(Algorithm::Argon2id, Version::V0x13, our_params())
        .hash_password_with_salt(passphrase.as_bytes(), &salt)
        .expect("argon2 with constant parameters")
        .to_string()
}

/// True when `passphrase` matches the stored hash. Pass `None` to spend the same time when the
/// rep does not exist.
pub fn verify_passphrase(passphrase: &str, phc: Option<&str>) -> bool {
    let (phc, real) = match phc {
        Some(p) => (p, true),
        None => (DUMMY_PHC, false),
    };
    let ok = match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(passphrase.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    };
    ok && real
}

/// An unkeyed argon2id hash at our parameters, as another system (or the bundled example
/// database) would store it. Replaced by a keyed hash at the next match.
pub fn hash_unkeyed(pin: &Pin) -> String {
    let mut salt = [0u8; 16];
    fill_secure(&mut salt);
    // Constant parameters and a 16-byte salt are within argon2's limits.
    #[allow(clippy::expect_used)]
    Argon2::new(Algorithm::Argon2id, Version::V0x13, our_params())
        .hash_password_with_salt(pin.expose(), &salt)
        .expect("argon2 with constant parameters")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> PinHasher {
        PinHasher::new(PinKey::from_bytes([7u8; 32]))
    }

    #[test]
    fn keyed_hash_matches_only_its_pin_and_only_with_its_key() {
        let h = hasher();
        let pin = Pin::parse("0071").expect("pin");
        let phc = h.hash(&pin);
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(h.verify(&pin, &phc, Some(h.key_id())));
        assert!(!h.verify(&Pin::parse("0072").expect("pin"), &phc, Some(h.key_id())));
        // Without the key, or claimed unkeyed, the hash does not match.
        assert!(!h.verify(&pin, &phc, None));
        let other = PinHasher::new(PinKey::from_bytes([8u8; 32]));
        assert!(!other.verify(&pin, &phc, Some(h.key_id())));
    }

    #[test]
    fn plaintext_and_junk_are_not_hashes() {
        assert!(inspect("0427").is_err_and(|e| e.contains("plaintext")));
        assert!(inspect("not a hash").is_err());
        assert!(inspect("$bcrypt$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA").is_err());
        let huge = "$argon2id$v=19$m=4194304,t=3,p=1$c2FsdHNhbHQwMQ$sTUXjNjObfH4YRmBmGa4WflpcmtiVkAlEPPySt7uktk";
        assert!(inspect(huge).is_err_and(|e| e.contains("KiB")));
    }

    #[test]
    fn foreign_hashes_from_the_cases_file_verify_their_pin() {
        let h = hasher();
        let cases = include_str!("../../tests/data/foreign-pin-hashes.tsv");
        for line in cases.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let (pin, made_by, phc) = (cols[0], cols[1], cols[2]);
            let info = inspect(phc).unwrap_or_else(|e| panic!("{made_by}: {e}"));
            let right = Pin::parse(pin).expect("pin");
            let wrong = Pin::from_number((pin.parse::<u16>().expect("num") + 1) % 10_000);
            assert!(h.verify(&right, phc, None), "{made_by} should validate its PIN");
            assert!(!h.verify(&wrong, phc, None), "{made_by} must reject another PIN");
            let ours = info.algorithm == "argon2id" && info.m_cost >= M_COST && info.t_cost >= T_COST;
            assert_eq!(info.weaker_than_ours, !ours, "{made_by}");
        }
    }

    #[test]
    fn passphrases_verify_and_unknown_reps_never_do() {
        let phc = hash_passphrase("rita-demo-pass");
        assert!(verify_passphrase("rita-demo-pass", Some(&phc)));
        assert!(!verify_passphrase("rita-demo-pas", Some(&phc)));
        assert!(!verify_passphrase("support-desk: no such rep", None));
        assert!(inspect(DUMMY_PHC).is_ok(), "the dummy hash is well-formed, so checking it costs a real check");
    }
}
