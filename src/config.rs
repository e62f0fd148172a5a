//! `plinkdb.toml`: object stores, the dataset, extra sources and engine settings.
//!
//! Unknown keys are errors. Secrets never live here: credentials are read from the
//! environment variables a store names (by default the standard `AWS_*` ones).
//!
//! ```toml
//! [data]
//! root = "s3://live-data/exports"     # a dataset in the generator's layout
//!
//! [[stores]]
//! url = "s3://live-data"
//! endpoint = "https://oss-cn-hangzhou.aliyuncs.com"
//! region = "cn-hangzhou"
//! path_style = false
//!
//! [[sources]]
//! name = "crm_orders"
//! location = "s3://live-data/crm/orders/"
//! format = "parquet"
//! partitions = ["dt:date"]
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the platform exports live (the generator's layout). Without it plinkdb
    /// uses the checked-in sample.
    #[serde(default)]
    pub data: Option<DataConfig>,
    /// Object stores, matched to locations by URL prefix (scheme + bucket).
    #[serde(default)]
    pub stores: Vec<StoreConfig>,
    /// Additional tables.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Engine settings.
    #[serde(default)]
    pub engine: EngineConfig,
    /// Identity resolution (`resolve_identities` and friends).
    #[serde(default)]
    pub identity: IdentityConfig,
    /// The Flight SQL server (`plinkdb serve`).
    #[serde(default)]
    pub server: ServerConfig,
    /// Directory relative locations are resolved against (the config file's own).
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

/// `[data]`: a dataset in the generator's layout (`raw/`, `firstparty/`, `truth/`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Local path (relative to the config file) or URL (`file://`, `s3://`, `gs://`,
    /// `az://`).
    pub root: String,
}

/// `[[stores]]`: how to reach one bucket or container.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `s3://bucket`, `gs://bucket`, `az://container`.
    pub url: String,
    /// S3-compatible endpoint (MinIO, Aliyun OSS, ...).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Path-style requests (`endpoint/bucket/key`), as MinIO and moto need.
    #[serde(default)]
    pub path_style: bool,
    /// Allow plain `http://` endpoints (default: only when the endpoint is loopback).
    pub allow_http: Option<bool>,
    /// Environment variable holding the access key id (default `AWS_ACCESS_KEY_ID`).
    pub access_key_id_env: Option<String>,
    /// Environment variable holding the secret (default `AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key_env: Option<String>,
    /// Send unsigned requests (public buckets).
    #[serde(default)]
    pub skip_signature: bool,
}

/// File format of a source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Parquet,
    Csv,
    #[serde(alias = "json")]
    Ndjson,
}

impl Format {
    /// The file extension listed for this format.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Parquet => ".parquet",
            Self::Csv => ".csv",
            Self::Ndjson => ".json",
        }
    }
}

/// `[[sources]]`: one table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Table name, optionally `schema.table` (`raw.douyin_live_push` replaces that feed).
    pub name: String,
    /// A directory or file: local path or URL.
    pub location: String,
    #[serde(default)]
    pub format: Format,
    /// Hive partition columns, `name` (text) or `name:type` with type one of `text`,
    /// `date`, `int`.
    #[serde(default)]
    pub partitions: Vec<String>,
    /// File extension to list (default by format).
    pub extension: Option<String>,
    /// CSV only: whether the first line is a header (default true).
    pub has_header: Option<bool>,
    /// CSV only: the delimiter (default `,`).
    pub delimiter: Option<char>,
}

/// `[engine]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Parallelism (default: the number of cores).
    pub target_partitions: Option<usize>,
    /// Memory limit for query execution, e.g. `"4GiB"` (default: unlimited).
    pub memory_limit: Option<String>,
    /// Environment variable holding the secret key for `phone_key` (default
    /// `PLINKDB_SECRET_KEY`).
    #[serde(default = "default_secret_env")]
    pub secret_key_env: String,
    /// Query files by path, `SELECT * FROM 'dir/file.parquet'` (default true; `plinkdb
    /// serve` always turns it off so clients cannot read the server's files).
    #[serde(default = "default_true")]
    pub url_tables: bool,
}

fn default_true() -> bool {
    true
}

fn default_secret_env() -> String {
    "PLINKDB_SECRET_KEY".into()
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            target_partitions: None,
            memory_limit: None,
            secret_key_env: default_secret_env(),
            url_tables: true,
        }
    }
}

/// `[identity]`: guards of `resolve_identities`. Every key is optional.
///
/// ```toml
/// [identity]
/// extra_blocked_values = ['^02:00:00:00:00:00$'] # added to the built-in junk patterns
/// hub_threshold = 50        # an identifier on more accounts is quarantined
/// max_phones = 2            # distinct phones one person may hold
/// shared_device_rule = true # a device on two accounts of one platform scope never links
/// members_table = "members" # phone/member links; "" to ignore
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// Regexes of identifier values that never link (replaces the defaults: all-zero or
    /// all-dash ids, empty, `-1`, `unknown`, `null`, `nil`, `none`, `undefined`, `nan`,
    /// `n/a`, `anonymous`).
    pub blocked_values: Vec<String>,
    /// Patterns added to `blocked_values` (e.g. QA phone keys) without restating them.
    pub extra_blocked_values: Vec<String>,
    /// An identifier value carried by more distinct accounts is a quarantined hub (50).
    pub hub_threshold: usize,
    /// Most distinct phones one person may hold; a merge beyond is refused (2).
    pub max_phones: usize,
    /// A device seen on two accounts of one platform scope is shared, never links (true).
    pub shared_device_rule: bool,
    /// First-party phone/member link table, used when it exists (`members`).
    pub members_table: String,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        let d = plinkdb_udfs::IdentityOptions::default();
        Self {
            blocked_values: d.blocked_values,
            extra_blocked_values: Vec::new(),
            hub_threshold: d.hub_threshold,
            max_phones: d.max_phones,
            shared_device_rule: d.shared_device_rule,
            members_table: d.members_table,
        }
    }
}

impl IdentityConfig {
    /// The options the identity functions are registered with.
    pub fn options(&self) -> plinkdb_udfs::IdentityOptions {
        let mut blocked_values = self.blocked_values.clone();
        blocked_values.extend(self.extra_blocked_values.iter().cloned());
        plinkdb_udfs::IdentityOptions {
            blocked_values,
            hub_threshold: self.hub_threshold,
            max_phones: self.max_phones,
            shared_device_rule: self.shared_device_rule,
            members_table: self.members_table.clone(),
        }
    }
}

/// `[server]`: the Flight SQL server (`plinkdb serve`). Every key is optional.
///
/// ```toml
/// [server]
/// addr = "127.0.0.1:50051"       # plaintext is refused off loopback unless allowed
/// read_only = true               # no DDL, DML, COPY or SET from clients
/// token_ttl_secs = 3600          # bearer tokens from the handshake expire
/// query_memory_limit = "1GiB"    # memory pool of each query
/// query_timeout_secs = 300       # planning + streaming the result
/// max_concurrent_queries = 8     # more wait up to query_timeout_secs, then RESOURCE_EXHAUSTED
/// max_result_rows = 10000000     # a larger result ends with RESOURCE_EXHAUSTED
/// max_result_bytes = "4GiB"
/// audit_log = "plinkdb-audit.jsonl"   # JSON lines, appended; relative to this file
/// # tls_cert = "server.pem"      # with tls_key: serve TLS
/// # tls_key = "server.key"
/// # allow_plaintext_remote = false
///
/// [[server.users]]
/// name = "analyst"
/// password_hash = "pbkdf2-sha256$600000$<salt hex>$<hash hex>"  # plinkdb serve --hash-password
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on (`127.0.0.1:50051`); `--addr` overrides it.
    pub addr: String,
    /// Users allowed to log in. Without any, `PLINKDB_USER`/`PLINKDB_PASSWORD` define one;
    /// with neither the server refuses to start.
    pub users: Vec<UserConfig>,
    /// Reject DDL, DML, COPY and SET (true).
    pub read_only: bool,
    /// Lifetime of a bearer token, seconds (3600).
    pub token_ttl_secs: u64,
    /// Memory pool of one query, e.g. `"1GiB"` (1GiB); spilling operators spill past it.
    pub query_memory_limit: String,
    /// Time limit of one query from planning to its last row, seconds (300).
    pub query_timeout_secs: u64,
    /// Queries running at once (8); others wait up to `query_timeout_secs`.
    pub max_concurrent_queries: usize,
    /// Rows of one result (10,000,000).
    pub max_result_rows: u64,
    /// Bytes of one result, in Arrow memory, e.g. `"4GiB"` (4GiB).
    pub max_result_bytes: String,
    /// PEM certificate chain; with `tls_key` the server speaks TLS (none).
    pub tls_cert: Option<String>,
    /// PEM private key of `tls_cert` (none).
    pub tls_key: Option<String>,
    /// Serve plaintext on a non-loopback address (false).
    pub allow_plaintext_remote: bool,
    /// Append-only audit log, one JSON object per query (none: no audit log).
    pub audit_log: Option<String>,
}

/// `[[server.users]]`: one login.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    /// `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`, from `plinkdb serve
    /// --hash-password`.
    pub password_hash: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:50051".into(),
            users: Vec::new(),
            read_only: true,
            token_ttl_secs: 3600,
            query_memory_limit: "1GiB".into(),
            query_timeout_secs: 300,
            max_concurrent_queries: 8,
            max_result_rows: 10_000_000,
            max_result_bytes: "4GiB".into(),
            tls_cert: None,
            tls_key: None,
            allow_plaintext_remote: false,
            audit_log: None,
        }
    }
}

impl Config {
    /// Reads and validates a config file.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file and, for an unknown or bad key, the key and line.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: format!("cannot read it: {e}"),
        })?;
        let mut config = Self::from_toml(&text).map_err(|message| Error::Config {
            path: path.to_path_buf(),
            message,
        })?;
        config.base_dir = path.parent().map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        });
        Ok(config)
    }

    /// Parses TOML text; the error is a readable message (key and line included).
    pub fn from_toml(text: &str) -> std::result::Result<Self, String> {
        let config: Self = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
        config.validate()?;
        Ok(config)
    }

    /// A configuration that reads the dataset at `root`.
    pub fn with_data_root(root: impl Into<String>) -> Self {
        Self {
            data: Some(DataConfig { root: root.into() }),
            ..Self::default()
        }
    }

    fn validate(&self) -> std::result::Result<(), String> {
        for source in &self.sources {
            if source.name.trim().is_empty() {
                return Err("a [[sources]] entry has an empty name".into());
            }
            for p in &source.partitions {
                crate::catalog::parse_partition(p)
                    .map_err(|e| format!("source '{}': partitions: {e}", source.name))?;
            }
        }
        for store in &self.stores {
            let scheme = store.url.split("://").next().unwrap_or_default();
            if !matches!(scheme, "s3" | "s3a" | "gs" | "az" | "abfs" | "abfss")
                || !store.url.contains("://")
            {
                return Err(format!(
                    "[[stores]] url '{}' must look like s3://bucket, gs://bucket or \
                     az://container",
                    store.url
                ));
            }
        }
        if let Some(limit) = &self.engine.memory_limit {
            parse_bytes(limit).map_err(|e| format!("engine.memory_limit: {e}"))?;
        }
        let server = &self.server;
        parse_bytes(&server.query_memory_limit)
            .map_err(|e| format!("server.query_memory_limit: {e}"))?;
        parse_bytes(&server.max_result_bytes)
            .map_err(|e| format!("server.max_result_bytes: {e}"))?;
        if server.max_concurrent_queries == 0 || server.query_timeout_secs == 0 {
            return Err(
                "server.max_concurrent_queries and server.query_timeout_secs must be > 0".into(),
            );
        }
        if server.tls_cert.is_some() != server.tls_key.is_some() {
            return Err("server.tls_cert and server.tls_key go together".into());
        }
        for user in &server.users {
            crate::flight_sql::auth::PasswordHash::parse(&user.password_hash)
                .map_err(|e| format!("server.users '{}': {e}", user.name))?;
        }
        plinkdb_udfs::identity::IdentityRules::new(&self.identity.options())
            .map_err(|e| e.strip_backtrace())?;
        Ok(())
    }

    /// Resolves a location from the config: URLs stay, relative paths are taken from the
    /// config file's directory, local paths become absolute.
    pub fn resolve_location(&self, location: &str) -> String {
        if location.contains("://") {
            return location.to_string();
        }
        let path = Path::new(location);
        let path = match (&self.base_dir, path.is_relative()) {
            (Some(base), true) => base.join(path),
            _ => path.to_path_buf(),
        };
        std::path::absolute(&path)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }
}

/// `"4GiB"`, `"512MB"`, `"1000000"` -> bytes.
pub fn parse_bytes(text: &str) -> std::result::Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size like 4GiB or 512MB"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("unknown size unit '{other}' in '{text}'")),
    };
    Ok((number * factor) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::from_toml("[data]\nroot = \"x\"\nrooot = \"y\"\n").unwrap_err();
        assert!(err.contains("rooot"), "{err}");
        let err = Config::from_toml("colour = 1\n").unwrap_err();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn full_config_parses() {
        let config = Config::from_toml(
            r#"
            [data]
            root = "s3://bucket/prefix"
            [[stores]]
            url = "s3://bucket"
            endpoint = "http://127.0.0.1:9000"
            region = "us-east-1"
            path_style = true
            [[sources]]
            name = "crm.orders"
            location = "crm/orders"
            format = "csv"
            partitions = ["dt:date", "shop"]
            [engine]
            memory_limit = "2GiB"
            "#,
        )
        .unwrap();
        assert_eq!(config.stores[0].region.as_deref(), Some("us-east-1"));
        assert_eq!(config.sources[0].format, Format::Csv);
    }

    #[test]
    fn bad_values_are_explained() {
        let err = Config::from_toml("[[stores]]\nurl = \"http://x\"\n").unwrap_err();
        assert!(err.contains("must look like s3://bucket"), "{err}");
        let err = Config::from_toml(
            "[[sources]]\nname = \"t\"\nlocation = \"x\"\npartitions = [\"dt:float\"]\n",
        )
        .unwrap_err();
        assert!(err.contains("source 't'"), "{err}");
        assert_eq!(parse_bytes("2GiB").unwrap(), 2 << 30);
        assert!(parse_bytes("lots").is_err());
    }

    #[test]
    fn identity_section_has_defaults_and_checks_values() {
        let config = Config::from_toml("[identity]\nhub_threshold = 20\n").unwrap();
        assert_eq!(config.identity.hub_threshold, 20);
        assert_eq!(config.identity.max_phones, 2);
        let err = Config::from_toml("[identity]\nhub_treshold = 20\n").unwrap_err();
        assert!(err.contains("hub_treshold"), "{err}");
        let err = Config::from_toml("[identity]\nextra_blocked_values = ['(']\n").unwrap_err();
        assert!(err.contains("blocked_values"), "{err}");
    }

    #[test]
    fn server_section_has_safe_defaults_and_checks_values() {
        let config = Config::from_toml("").unwrap();
        assert!(config.server.read_only);
        assert_eq!(config.server.addr, "127.0.0.1:50051");
        assert!(!config.server.allow_plaintext_remote);
        for (toml, needle) in [
            ("[server]\nread_onyl = false\n", "read_onyl"),
            ("[server]\ntls_cert = \"a.pem\"\n", "tls_key"),
            (
                "[server]\nquery_memory_limit = \"lots\"\n",
                "query_memory_limit",
            ),
            (
                "[server]\nmax_concurrent_queries = 0\n",
                "max_concurrent_queries",
            ),
            (
                "[[server.users]]\nname = \"ann\"\npassword_hash = \"secret\"\n",
                "server.users 'ann'",
            ),
        ] {
            let err = Config::from_toml(toml).unwrap_err();
            assert!(err.contains(needle), "{toml}: {err}");
        }
    }

    #[test]
    fn relative_locations_follow_the_config_file() {
        let config = Config {
            base_dir: Some(PathBuf::from("/etc/plinkdb")),
            ..Config::default()
        };
        assert_eq!(config.resolve_location("data"), "/etc/plinkdb/data");
        assert_eq!(config.resolve_location("s3://b/k"), "s3://b/k");
    }
}
