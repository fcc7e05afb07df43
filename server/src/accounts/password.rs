//! Password hashes: Argon2id in PHC string form, with RustCrypto's `argon2`.
//!
//! New hashes use m = 19 MiB (19456 KiB), t = 2 passes, p = 1 lane, the
//! first Argon2id configuration of OWASP's Password Storage Cheat Sheet (and
//! `argon2` 0.6's own defaults, pinned here so a change of the crate's
//! defaults does not silently change ours). Why these:
//!
//! - Memory is what makes a stolen accounts file expensive to attack: every
//!   guess needs 19 MiB of its own, which keeps GPUs and ASICs far from
//!   their raw speed. More memory would cost the server the same 19 MiB per
//!   login in progress, and logins arrive in bursts (a script, a class of
//!   students), so 19 MiB keeps a burst of 100 within 2 GiB.
//! - Two passes put one verification at a few tens of milliseconds on one
//!   core (`ferry-bench logins` measures it next to one SHA-256 of the same
//!   password): invisible to a person logging in — the contract's fixed
//!   delay after a failure is a whole second — yet about a million times
//!   the cost of a fast hash for each guess.
//! - One lane: the server verifies many logins at once on its own, one per
//!   task, so lanes inside one hash would only let a single login occupy
//!   several cores.
//!
//! Verification reads the parameters from the hash itself, so a file
//! holding hashes made with other costs (by another tool, or by an older
//! version of this one) keeps working; only the algorithm must be Argon2id.
//! An unknown account is checked against [`dummy`], a hash with the same
//! parameters, so it costs what a wrong password costs and the two cannot
//! be told apart by timing. (A hash made elsewhere with other parameters
//! costs what its own parameters cost, and so tells that its account
//! exists; the tool only ever writes hashes with the parameters above.)

use argon2::password_hash::{phc, PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::fmt;
use std::sync::OnceLock;

/// Memory of a new hash, in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over the memory of a new hash.
pub const PASSES: u32 = 2;
/// Lanes of a new hash.
pub const LANES: u32 = 1;

/// What an unknown account is verified against: the parameters above, a
/// random salt and a random output, so no password is known to match it.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2l6H6wHW8RXrXZy0mGRJw$\
                         kM0BvuNW6hIpK3kDJP6mSuonTAsBUxNcStX8eK12KbQ";

/// A valid Argon2id password hash (a PHC string with salt and output).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(phc::PasswordHash);

impl PasswordHash {
    /// Hashes `password` with a fresh random salt and the parameters above.
    pub fn new(password: &str) -> Result<PasswordHash, String> {
        hasher()
            .hash_password(password.as_bytes())
            .map(PasswordHash)
            .map_err(|error| format!("cannot hash the password: {error}"))
    }

    /// Reads a PHC string, which must be Argon2id with a salt, an output
    /// and parameters `argon2` accepts.
    pub fn parse(text: &str) -> Result<PasswordHash, String> {
        let hash = phc::PasswordHash::new(text)
            .map_err(|error| format!("not a PHC password hash ({error})"))?;
        if hash.algorithm.as_str() != argon2::ARGON2ID_IDENT.as_str() {
            return Err(format!(
                "the password hash is {}, not argon2id",
                hash.algorithm
            ));
        }
        if hash.salt.is_none() || hash.hash.is_none() {
            return Err("the password hash has no salt or no output".to_owned());
        }
        if let Some(version) = hash.version {
            Version::try_from(version)
                .map_err(|error| format!("bad Argon2 version in the password hash ({error})"))?;
        }
        Params::try_from(&hash)
            .map_err(|error| format!("bad Argon2 parameters in the password hash ({error})"))?;
        Ok(PasswordHash(hash))
    }

    /// Whether `password` is the one this hash was made from. Costs one
    /// Argon2id computation with the hash's own parameters: call it off the
    /// async runtime's worker threads (`spawn_blocking`).
    pub fn verify(&self, password: &str) -> bool {
        hasher()
            .verify_password(password.as_bytes(), &self.0)
            .is_ok()
    }

    /// The hash's memory, passes and lanes.
    pub fn params(&self) -> (u32, u32, u32) {
        let params = Params::try_from(&self.0).expect("checked when parsed");
        (params.m_cost(), params.t_cost(), params.p_cost())
    }
}

/// The hash an unknown account is verified against.
pub fn dummy() -> &'static PasswordHash {
    static DUMMY: OnceLock<PasswordHash> = OnceLock::new();
    DUMMY.get_or_init(|| PasswordHash::parse(DUMMY_PHC).expect("the dummy hash is valid"))
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Never prints the hash itself, so a logged account shows no secret.
impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

impl serde::Serialize for PasswordHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PasswordHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        PasswordHash::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A hash of `password` with the cheapest parameters (64 KiB, one pass),
/// so that tests elsewhere verify quickly.
#[cfg(test)]
pub(crate) fn cheap_hash(password: &str) -> PasswordHash {
    let params = Params::new(64, 1, 1, None).expect("valid Argon2 parameters");
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes())
        .expect("hashing works");
    PasswordHash(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_hash_verifies_its_password_only() {
        let hash = PasswordHash::new("correct horse").unwrap();
        assert!(hash.verify("correct horse"));
        assert!(!hash.verify("correct horse "));
        assert!(!hash.verify(""));
        assert_eq!(hash.params(), (MEMORY_KIB, PASSES, LANES));
        let text = hash.to_string();
        assert!(
            text.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{text}"
        );
        let again = PasswordHash::parse(&text).unwrap();
        assert!(again.verify("correct horse"));
        assert_ne!(PasswordHash::new("correct horse").unwrap(), hash, "salted");
    }

    #[test]
    fn other_parameters_are_read_from_the_hash() {
        let cheap = Params::new(64, 1, 2, None).unwrap();
        let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, cheap)
            .hash_password(b"pw")
            .unwrap()
            .to_string();
        let parsed = PasswordHash::parse(&hash).unwrap();
        assert_eq!(parsed.params(), (64, 1, 2));
        assert!(parsed.verify("pw"));
        assert!(!parsed.verify("px"));
    }

    #[test]
    fn only_argon2id_phc_strings_are_accepted() {
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::default())
            .hash_password(b"pw")
            .unwrap()
            .to_string();
        let error = PasswordHash::parse(&argon2i).unwrap_err();
        assert!(error.contains("not argon2id"), "{error}");
        for bad in [
            "",
            "hunter2",
            "$argon2id$v=19$m=19456,t=2,p=1",
            "$argon2id$v=19$m=1,t=2,p=1$c2l6H6wHW8RXrXZy0mGRJw$kM0BvuNW6hIpK3kDJP6mSuonTAsBUxNcStX8eK12KbQ",
        ] {
            assert!(PasswordHash::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_dummy_costs_what_a_new_hash_costs() {
        assert_eq!(dummy().params(), (MEMORY_KIB, PASSES, LANES));
        assert!(!dummy().verify(""));
        assert!(!dummy().verify("password"));
    }

    #[test]
    fn debug_shows_no_hash() {
        let hash = PasswordHash::new("pw").unwrap();
        assert_eq!(format!("{hash:?}"), "PasswordHash(..)");
    }
}
