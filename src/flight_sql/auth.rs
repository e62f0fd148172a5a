//! Logins: salted password hashes, the Basic handshake and expiring bearer tokens.
//!
//! A password hash is `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`
//! (PBKDF2-HMAC-SHA256, 32-byte output); `plinkdb serve --hash-password` makes one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::config::ServerConfig;
use crate::error::{Error, Result};

/// Iterations of a hash made by `--hash-password` (OWASP's 2023 figure for SHA-256).
pub const HASH_ITERATIONS: u32 = 600_000;
/// Iterations for the environment quick-start user: its password sits in the server's
/// own environment, so the hash only has to make comparisons constant-time.
const ENV_USER_ITERATIONS: u32 = 1_000;

/// A parsed `pbkdf2-sha256$...` hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: Vec<u8>,
    hash: [u8; 32],
}

impl PasswordHash {
    /// Hashes `password` with a fresh random salt.
    ///
    /// # Errors
    /// When the system has no randomness to offer.
    pub fn new(password: &str, iterations: u32) -> Result<Self> {
        let salt = random_bytes::<16>()?.to_vec();
        let hash = pbkdf2(password.as_bytes(), &salt, iterations);
        Ok(Self {
            iterations,
            salt,
            hash,
        })
    }

    /// Parses the config form.
    ///
    /// # Errors
    /// A string that is not `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let bad = || {
            "password_hash must look like pbkdf2-sha256$<iterations>$<salt hex>$<hash hex> \
             (make one with `plinkdb serve --hash-password`)"
                .to_string()
        };
        let mut parts = text.split('$');
        if parts.next() != Some("pbkdf2-sha256") {
            return Err(bad());
        }
        let iterations: u32 = parts
            .next()
            .and_then(|n| n.parse().ok())
            .filter(|n| *n > 0)
            .ok_or_else(bad)?;
        let salt = parts
            .next()
            .and_then(|s| hex::decode(s).ok())
            .ok_or_else(bad)?;
        let hash = parts
            .next()
            .and_then(|s| hex::decode(s).ok())
            .and_then(|h| <[u8; 32]>::try_from(h).ok())
            .ok_or_else(bad)?;
        if parts.next().is_some() || salt.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            iterations,
            salt,
            hash,
        })
    }

    /// Whether `password` matches, compared in constant time.
    pub fn verify(&self, password: &str) -> bool {
        let candidate = pbkdf2(password.as_bytes(), &self.salt, self.iterations);
        candidate
            .iter()
            .zip(self.hash.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl std::fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pbkdf2-sha256${}${}${}",
            self.iterations,
            hex::encode(&self.salt),
            hex::encode(self.hash)
        )
    }
}

/// PBKDF2-HMAC-SHA256 with one 32-byte block (RFC 8018 section 5.2).
fn pbkdf2(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mac) = Hmac::<Sha256>::new_from_slice(password) else {
        unreachable!("HMAC takes keys of any length")
    };
    let mut first = mac.clone();
    first.update(salt);
    first.update(&1u32.to_be_bytes());
    let mut u: [u8; 32] = first.finalize().into_bytes().into();
    let mut out = u;
    for _ in 1..iterations {
        let mut next = mac.clone();
        next.update(&u);
        u = next.finalize().into_bytes().into();
        for (o, b) in out.iter_mut().zip(u.iter()) {
            *o ^= b;
        }
    }
    out
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Usage(format!("no system randomness for tokens: {e}")))?;
    Ok(bytes)
}

/// Users, their hashes and the live tokens.
pub struct Authenticator {
    users: HashMap<String, PasswordHash>,
    token_ttl: Duration,
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Basic credentials arrive with or without `=` padding (the ADBC Go driver drops it).
const BASE64_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl Authenticator {
    /// The users of `[server.users]`, else the one `PLINKDB_USER`/`PLINKDB_PASSWORD`
    /// define.
    ///
    /// # Errors
    /// No user at all: the server does not start open to anyone.
    pub fn from_config(config: &ServerConfig) -> Result<Self> {
        let mut users = HashMap::new();
        for user in &config.users {
            let hash = PasswordHash::parse(&user.password_hash)
                .map_err(|e| Error::Usage(format!("server.users '{}': {e}", user.name)))?;
            users.insert(user.name.clone(), hash);
        }
        let env_user = std::env::var("PLINKDB_USER").ok().filter(|u| !u.is_empty());
        let env_password = std::env::var("PLINKDB_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty());
        if let (Some(user), Some(password)) = (env_user, env_password) {
            users.insert(user, PasswordHash::new(&password, ENV_USER_ITERATIONS)?);
        }
        if users.is_empty() {
            return Err(Error::Usage(
                "plinkdb serve needs at least one user: add [[server.users]] to the config \
                 (hash with `plinkdb serve --hash-password`) or set PLINKDB_USER and \
                 PLINKDB_PASSWORD"
                    .into(),
            ));
        }
        Ok(Self {
            users,
            token_ttl: Duration::from_secs(config.token_ttl_secs.max(1)),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// The handshake: `authorization: Basic ...` -> a new token; `Bearer ...` -> the same
    /// token, if still valid. Returns the user and the token.
    pub fn handshake(
        &self,
        metadata: &MetadataMap,
    ) -> std::result::Result<(String, String), Status> {
        let header = authorization(metadata)?;
        if let Some(token) = header.strip_prefix("Bearer ") {
            let user = self.user_of_token(token.trim())?;
            return Ok((user, token.trim().to_string()));
        }
        let Some(encoded) = header.strip_prefix("Basic ") else {
            return Err(Status::unauthenticated(
                "the handshake takes an 'authorization: Basic <base64 user:password>' header",
            ));
        };
        let decoded = BASE64_ANY_PADDING
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                Status::invalid_argument("Basic credentials are not base64 user:password")
            })?;
        let Some((user, password)) = decoded.split_once(':') else {
            return Err(Status::invalid_argument(
                "Basic credentials are not base64 user:password",
            ));
        };
        let ok = self
            .users
            .get(user)
            .is_some_and(|hash| hash.verify(password));
        if !ok {
            return Err(Status::unauthenticated("wrong user name or password"));
        }
        let token = hex::encode(random_bytes::<32>().map_err(|e| Status::internal(e.to_string()))?);
        let now = Instant::now();
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.retain(|_, (_, expires)| *expires > now);
        tokens.insert(token.clone(), (user.to_string(), now + self.token_ttl));
        Ok((user.to_string(), token))
    }

    /// The user of a request's `authorization: Bearer <token>` header.
    pub fn authenticate(&self, metadata: &MetadataMap) -> std::result::Result<String, Status> {
        let header = authorization(metadata)?;
        let Some(token) = header.strip_prefix("Bearer ") else {
            return Err(Status::unauthenticated(
                "send 'authorization: Bearer <token>' from the handshake",
            ));
        };
        self.user_of_token(token.trim())
    }

    fn user_of_token(&self, token: &str) -> std::result::Result<String, Status> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        match tokens.get(token) {
            Some((user, expires)) if *expires > Instant::now() => Ok(user.clone()),
            Some(_) => Err(Status::unauthenticated(
                "the token has expired; log in again",
            )),
            None => Err(Status::unauthenticated("unknown token; log in again")),
        }
    }
}

fn authorization(metadata: &MetadataMap) -> std::result::Result<&str, Status> {
    metadata
        .get("authorization")
        .ok_or_else(|| Status::unauthenticated("no authorization header; log in first"))?
        .to_str()
        .map_err(|_| Status::invalid_argument("the authorization header is not ASCII"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pbkdf2_matches_rfc7914_vector() {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, first 32 bytes.
        let out = pbkdf2(b"passwd", b"salt", 1);
        assert_eq!(
            hex::encode(out),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }

    #[test]
    fn hashes_round_trip_and_verify() {
        let hash = PasswordHash::new("s3cret", 10).unwrap();
        let parsed = PasswordHash::parse(&hash.to_string()).unwrap();
        assert_eq!(parsed, hash);
        assert!(parsed.verify("s3cret"));
        assert!(!parsed.verify("s3cret "));
        assert!(PasswordHash::parse("md5$1$00$00").is_err());
        assert!(PasswordHash::parse("pbkdf2-sha256$x$00$00").is_err());
    }

    fn metadata(header: &str) -> MetadataMap {
        let mut m = MetadataMap::new();
        m.insert("authorization", header.parse().unwrap());
        m
    }

    #[test]
    fn basic_login_with_and_without_padding_then_bearer() {
        let config = ServerConfig {
            users: vec![crate::config::UserConfig {
                name: "ann".into(),
                password_hash: PasswordHash::new("pw", 10).unwrap().to_string(),
            }],
            ..ServerConfig::default()
        };
        let auth = Authenticator::from_config(&config).unwrap();
        // "ann:pw" is "YW5uOnB3" (no padding needed); "ann:pw1" needs one '='.
        let (user, token) = auth.handshake(&metadata("Basic YW5uOnB3")).unwrap();
        assert_eq!(user, "ann");
        assert_eq!(
            auth.authenticate(&metadata(&format!("Bearer {token}")))
                .unwrap(),
            "ann"
        );
        let wrong = auth.handshake(&metadata("Basic YW5uOnB3MQ")).unwrap_err();
        assert_eq!(wrong.code(), tonic::Code::Unauthenticated);
        let wrong = auth.handshake(&metadata("Basic YW5uOnB3MQ==")).unwrap_err();
        assert_eq!(wrong.code(), tonic::Code::Unauthenticated);
        let missing = auth.authenticate(&MetadataMap::new()).unwrap_err();
        assert_eq!(missing.code(), tonic::Code::Unauthenticated);
        let bogus = auth.authenticate(&metadata("Bearer nope")).unwrap_err();
        assert_eq!(bogus.code(), tonic::Code::Unauthenticated);
        // The handshake also takes a bearer token and echoes it.
        let bearer = metadata(&format!("Bearer {token}"));
        assert_eq!(auth.handshake(&bearer).unwrap(), ("ann".into(), token));
    }

    #[test]
    fn tokens_expire() {
        let config = ServerConfig {
            users: vec![crate::config::UserConfig {
                name: "ann".into(),
                password_hash: PasswordHash::new("pw", 10).unwrap().to_string(),
            }],
            ..ServerConfig::default()
        };
        let mut auth = Authenticator::from_config(&config).unwrap();
        auth.token_ttl = Duration::ZERO;
        let (_, token) = auth.handshake(&metadata("Basic YW5uOnB3")).unwrap();
        let expired = auth
            .authenticate(&metadata(&format!("Bearer {token}")))
            .unwrap_err();
        assert!(expired.message().contains("expired"), "{expired}");
    }
}
