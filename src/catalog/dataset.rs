//! The dataset layout the generator writes and platforms deliver: which directory under
//! the root becomes which table.
//!
//! | table | directory |
//! |---|---|
//! | `raw.<platform>_<feed>` | `raw/<platform>/<feed>/dt=YYYY-MM-DD/` |
//! | `touches`, `feedback` | `firstparty/<name>/dt=YYYY-MM-DD/` |
//! | `members`, `consents` | `firstparty/<name>/` |
//! | `truth.*` (generated data only) | `truth/<name>.parquet` |

use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;

use super::source::{SourceSpec, register_if_present, register_source};
use crate::error::Result;

/// Every raw platform feed: (platform, feed).
pub const RAW_FEEDS: &[(&str, &str)] = &[
    ("douyin", "live_push"),
    ("douyin", "doudian_order"),
    ("kuaishou", "live_event"),
    ("kuaishou", "order"),
    ("wechat_channels", "live_event"),
    ("wechat_channels", "order"),
    ("taobao_live", "live_event"),
    ("taobao_live", "trade"),
];

/// First-party tables: (name, partitioned by `dt`).
pub const FIRST_PARTY: &[(&str, bool)] = &[
    ("touches", true),
    ("feedback", true),
    ("members", false),
    ("consents", false),
];

/// Ground-truth tables of a generated dataset.
pub const TRUTH: &[&str] = &["accounts", "persons", "devices", "event_counts"];

/// What a dataset root contains, once registered.
#[derive(Debug, Clone, Default)]
pub struct DatasetTables {
    /// The platforms whose exports were found (a brand need not sell everywhere).
    pub platforms: Vec<&'static str>,
    /// Whether `truth/` was found and registered.
    pub has_truth: bool,
}

fn join(root: &str, rel: &str) -> String {
    format!("{}/{rel}", root.trim_end_matches('/'))
}

/// Registers every table of the dataset at `root` (a local absolute path or URL).
///
/// # Errors
/// The first source that cannot be registered, named with its location.
pub async fn register_dataset(ctx: &SessionContext, root: &str) -> Result<DatasetTables> {
    let local = root.strip_prefix("file://").unwrap_or(root);
    if !local.contains("://") && !std::path::Path::new(local).is_dir() {
        return Err(crate::error::Error::Source {
            name: "dataset".into(),
            location: root.to_string(),
            message: "the path does not exist or is not a directory".into(),
        });
    }
    let dt = [("dt", DataType::Date32)];
    let mut platforms: Vec<&'static str> = Vec::new();
    let mut missing: Vec<SourceSpec> = Vec::new();
    for (platform, feed) in RAW_FEEDS {
        let spec = SourceSpec::parquet(
            &format!("raw.{platform}_{feed}"),
            join(root, &format!("raw/{platform}/{feed}")),
            &dt,
        );
        if register_if_present(ctx, &spec).await?.is_some() {
            if !platforms.contains(platform) {
                platforms.push(platform);
            }
        } else {
            missing.push(spec);
        }
    }
    // A platform is either absent (no feed at all) or complete: half a platform is
    // more likely a wrong path than a business decision.
    if let Some(spec) = missing.iter().find(|spec| {
        platforms
            .iter()
            .any(|p| spec.name.starts_with(&format!("raw.{p}_")))
    }) {
        return Err(spec.missing_error());
    }
    if platforms.is_empty() {
        return Err(crate::error::Error::Source {
            name: "raw.*".into(),
            location: join(root, "raw"),
            message: "no platform exports found (expected raw/<platform>/<feed>/ \
                      directories, see datasets/README.md); does the path exist?"
                .into(),
        });
    }
    for (name, partitioned) in FIRST_PARTY {
        let partitions: &[(&str, DataType)] = if *partitioned { &dt } else { &[] };
        let spec = SourceSpec::parquet(name, join(root, &format!("firstparty/{name}")), partitions);
        register_source(ctx, &spec).await?;
    }
    // truth/ only exists in generated datasets.
    let mut has_truth = false;
    for name in TRUTH {
        let spec = SourceSpec::parquet(
            &format!("truth.{name}"),
            join(root, &format!("truth/{name}.parquet")),
            &[],
        );
        has_truth |= register_if_present(ctx, &spec).await?.is_some();
    }
    Ok(DatasetTables {
        platforms,
        has_truth,
    })
}
