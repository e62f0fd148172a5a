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
    /// Contact tolerance (`tolerance_score`, `contact_policy`).
    #[serde(default)]
    pub tolerance: ToleranceConfig,
    /// Scheduled SQL jobs (`plinkdb jobs`). With this section, every engine (`query`,
    /// `shell`, [`crate::Engine::open`]) also sees the published outputs, `people_events`
    /// and `job_runs`.
    #[serde(default)]
    pub jobs: Option<JobsConfig>,
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

/// `[tolerance]`: the contact-tolerance model. Every key is optional.
///
/// ```toml
/// [tolerance]
/// engagement_days = 28       # sends, opens and clicks looked at
/// prior_mean = 0.2           # engagement assumed without sends (Beta prior mean)
/// prior_weight = 5.0         # sends it takes to move away from the prior
/// target_engagement = 0.3    # engagement at which the tolerance reaches 1
/// half_life_days = 90.0      # negative feedback loses half its weight in this time
/// negative_scale = 5.0       # negative load that divides the tolerance by e
/// unfollow_weight = 1.0      # weights: unfollow < unsubscribe < block < report
/// unsubscribe_weight = 4.0
/// block_weight = 6.0
/// report_weight = 10.0
/// hard_stop_days = 180       # a block or report stops the channel this long
/// min_tolerance = 0.3        # below it a channel's weekly cap is 0
/// default_weekly_cap = 2     # sends per rolling week at tolerance 1, unlisted channels
/// quiet_start_hour = 22      # Beijing quiet hours: from 22:00 ...
/// quiet_end_hour = 9         # ... to 09:00
/// fallback_hour = 20         # send hour when a person's activity gives none
/// activity_days = 30         # days of activity the preferred hour comes from
/// consents_table = "consents"
///
/// [tolerance.weekly_cap]     # sends per rolling week at tolerance 1, per channel
/// wechat_service = 3
/// wecom = 3
/// douyin_dm = 3
/// sms = 2
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ToleranceConfig {
    /// Days of sends, opens and clicks the engagement looks at (28).
    pub engagement_days: u32,
    /// Engagement assumed without sends, the Beta prior mean (0.2).
    pub prior_mean: f64,
    /// Sends it takes to move away from the prior (5).
    pub prior_weight: f64,
    /// Engagement at which the tolerance reaches 1 before penalties (0.3).
    pub target_engagement: f64,
    /// Half-life of negative feedback, days (90).
    pub half_life_days: f64,
    /// Negative load that divides the tolerance by e (5).
    pub negative_scale: f64,
    /// Weight of an unfollow (1).
    pub unfollow_weight: f64,
    /// Weight of an unsubscribe (4).
    pub unsubscribe_weight: f64,
    /// Weight of a block (6).
    pub block_weight: f64,
    /// Weight of a report (10).
    pub report_weight: f64,
    /// A block or report on a channel stops it for this many days (180).
    pub hard_stop_days: u32,
    /// Below this tolerance a channel's weekly cap is 0 (0.3).
    pub min_tolerance: f64,
    /// Sends per rolling 7 days at tolerance 1, per channel (wechat_service 3, wecom 3,
    /// douyin_dm 3, sms 2); replaces the whole table when given.
    pub weekly_cap: std::collections::BTreeMap<String, u32>,
    /// The same for channels not in `weekly_cap` (2).
    pub default_weekly_cap: u32,
    /// Beijing hour the quiet hours start (22).
    pub quiet_start_hour: u32,
    /// Beijing hour the quiet hours end (9).
    pub quiet_end_hour: u32,
    /// Send hour when a person's activity gives none; outside the quiet hours (20).
    pub fallback_hour: u32,
    /// Days of activity the preferred send hour is taken from (30).
    pub activity_days: u32,
    /// Consent table `contact_policy` reads (`consents`).
    pub consents_table: String,
}

impl Default for ToleranceConfig {
    fn default() -> Self {
        let d = plinkdb_udfs::ToleranceOptions::default();
        Self {
            engagement_days: d.engagement_days,
            prior_mean: d.prior_mean,
            prior_weight: d.prior_weight,
            target_engagement: d.target_engagement,
            half_life_days: d.half_life_days,
            negative_scale: d.negative_scale,
            unfollow_weight: d.unfollow_weight,
            unsubscribe_weight: d.unsubscribe_weight,
            block_weight: d.block_weight,
            report_weight: d.report_weight,
            hard_stop_days: d.hard_stop_days,
            min_tolerance: d.min_tolerance,
            weekly_cap: d.weekly_cap,
            default_weekly_cap: d.default_weekly_cap,
            quiet_start_hour: d.quiet_start_hour,
            quiet_end_hour: d.quiet_end_hour,
            fallback_hour: d.fallback_hour,
            activity_days: d.activity_days,
            consents_table: d.consents_table,
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

impl ToleranceConfig {
    /// The options `tolerance_score` and `contact_policy` are registered with.
    pub fn options(&self) -> plinkdb_udfs::ToleranceOptions {
        plinkdb_udfs::ToleranceOptions {
            engagement_days: self.engagement_days,
            prior_mean: self.prior_mean,
            prior_weight: self.prior_weight,
            target_engagement: self.target_engagement,
            half_life_days: self.half_life_days,
            negative_scale: self.negative_scale,
            unfollow_weight: self.unfollow_weight,
            unsubscribe_weight: self.unsubscribe_weight,
            block_weight: self.block_weight,
            report_weight: self.report_weight,
            hard_stop_days: self.hard_stop_days,
            min_tolerance: self.min_tolerance,
            weekly_cap: self.weekly_cap.clone(),
            default_weekly_cap: self.default_weekly_cap,
            quiet_start_hour: self.quiet_start_hour,
            quiet_end_hour: self.quiet_end_hour,
            fallback_hour: self.fallback_hour,
            activity_days: self.activity_days,
            consents_table: self.consents_table.clone(),
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
        self.tolerance
            .options()
            .validate()
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
    fn tolerance_section_has_defaults_and_checks_values() {
        let config = Config::from_toml(
            "[tolerance]\nhalf_life_days = 30.0\n[tolerance.weekly_cap]\nsms = 1\n",
        )
        .unwrap();
        let options = config.tolerance.options();
        assert_eq!(options.half_life_days, 30.0);
        assert_eq!(options.max_weekly("sms"), 1);
        assert_eq!(options.max_weekly("wecom"), 2); // the table was replaced
        assert_eq!(options.prior_mean, 0.2);
        let err = Config::from_toml("[tolerance]\nhalf_live_days = 30.0\n").unwrap_err();
        assert!(err.contains("half_live_days"), "{err}");
        let err = Config::from_toml("[tolerance]\nquiet_end_hour = 25\n").unwrap_err();
        assert!(err.contains("quiet_end_hour"), "{err}");
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
