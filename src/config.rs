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
    /// Scheduled SQL jobs (`plinkdb jobs`). With this section, every engine (`query`,
    /// `shell`, [`crate::Engine::open`]) also sees the published outputs, `people_events`
    /// and `job_runs`.
    #[serde(default)]
    pub jobs: Option<JobsConfig>,
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

/// `[jobs]`: where scheduled jobs publish and how they run. Every key is optional.
///
/// ```toml
/// [jobs]
/// root = "s3://live-data/marts"  # outputs and the run log ("jobs", next to the config)
/// dirs = ["jobs"]                # more job files besides the built-in sql/jobs ([])
/// lock_dir = "/var/lock/plinkdb" # per-machine run locks (<temp dir>/plinkdb-locks)
/// retries = 3                    # retries after a transient object-store error (3)
/// backoff_ms = 1000              # first retry delay, doubled each time (1000)
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Output root: a local path (relative to the config file) or URL such as
    /// `s3://bucket/prefix`, reached through `[[stores]]` (default `jobs`).
    pub root: String,
    /// Extra directories of job files (`*.sql`); a file there replaces a built-in job of
    /// the same name (default none).
    pub dirs: Vec<String>,
    /// Directory of the lock files that keep two runs of a job apart, on this machine
    /// (default `<temp dir>/plinkdb-locks`).
    pub lock_dir: Option<String>,
    /// Retries after a transient object-store error; SQL errors never retry (3).
    pub retries: u32,
    /// Delay before the first retry in milliseconds, doubled for each next one (1000).
    pub backoff_ms: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            root: "jobs".into(),
            dirs: Vec::new(),
            lock_dir: None,
            retries: 3,
            backoff_ms: 1000,
        }
    }
}

impl JobsConfig {
    /// The lock directory in use.
    pub fn lock_dir(&self) -> PathBuf {
        self.lock_dir
            .as_ref()
            .map_or_else(|| std::env::temp_dir().join("plinkdb-locks"), PathBuf::from)
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
        if let Some(mut jobs) = config.jobs.take() {
            jobs.dirs = jobs
                .dirs
                .iter()
                .map(|d| config.resolve_location(d))
                .collect();
            jobs.lock_dir = jobs.lock_dir.map(|d| config.resolve_location(&d));
            config.jobs = Some(jobs);
        }
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
    fn jobs_section_has_defaults() {
        let config = Config::from_toml("[jobs]\nroot = \"s3://b/marts\"\n").unwrap();
        let jobs = config.jobs.unwrap();
        assert_eq!((jobs.retries, jobs.backoff_ms), (3, 1000));
        assert!(jobs.dirs.is_empty());
        let err = Config::from_toml("[jobs]\nretry = 1\n").unwrap_err();
        assert!(err.contains("retry"), "{err}");
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
