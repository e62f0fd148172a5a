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

use super::source::{SourceSpec, register_source};
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
    let dt = [("dt", DataType::Date32)];
    for (platform, feed) in RAW_FEEDS {
        let spec = SourceSpec::parquet(
            &format!("raw.{platform}_{feed}"),
            join(root, &format!("raw/{platform}/{feed}")),
            &dt,
        );
        register_source(ctx, &spec).await?;
    }
    for (name, partitioned) in FIRST_PARTY {
        let partitions: &[(&str, DataType)] = if *partitioned { &dt } else { &[] };
        let spec = SourceSpec::parquet(name, join(root, &format!("firstparty/{name}")), partitions);
        register_source(ctx, &spec).await?;
    }
    // truth/ only exists in generated datasets: probe it with its first table.
    let mut has_truth = true;
    for name in TRUTH {
        let spec = SourceSpec::parquet(
            &format!("truth.{name}"),
            join(root, &format!("truth/{name}.parquet")),
            &[],
        );
        match register_source(ctx, &spec).await {
            Ok(_) => {}
            Err(_) if *name == TRUTH[0] => {
                has_truth = false;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(DatasetTables { has_truth })
}
