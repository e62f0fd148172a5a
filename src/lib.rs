//! plinkdb: an embedded analytical engine for cross-platform live-commerce data, on
//! Apache DataFusion.
//!
//! The data path, one module per step: [`config`] -> [`catalog`] (object stores and
//! sources, the raw platform tables) -> [`platforms`] (the `sql/platforms` views and
//! `events`) -> [`engine`] (the session analysts query) -> [`tags`] (the tag catalog,
//! `derive_tags`) -> [`cli`] and [`flight_sql`] (the same session served to BI tools);
//! [`jobs`] runs SQL files on a schedule and publishes their results as tables.
//!
//! ```no_run
//! # async fn demo() -> plinkdb::Result<()> {
//! let engine = plinkdb::Engine::open_default().await?;
//! let df = engine.sql("SELECT count(*) FROM events").await?;
//! df.show().await?;
//! # Ok(())
//! # }
//! ```

pub mod catalog;
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod flight_sql;
pub mod jobs;
pub mod platforms;
pub mod tags;

pub use config::Config;
pub use engine::Engine;
pub use error::{Error, Result};
