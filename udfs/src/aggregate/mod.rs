//! Aggregate functions, one per file: funnels, retention, sequences, the value counts of
//! the tag catalog (`most_frequent`, `top_n`) and contact tolerance (`tolerance_score`).

use std::sync::Arc;

use datafusion::logical_expr::AggregateUDF;

mod event_groups;
pub mod event_plan;
mod funnel_state;
pub mod funnel_step_times;
pub mod most_frequent;
pub mod retention;
pub mod sequence_count;
pub mod sequence_match;
mod sequence_pattern;
mod sequence_state;
mod string_equals;
pub mod tolerance_score;
pub mod top_n;
mod value_counts;
pub mod window_funnel;

/// `make_udaf!(WindowFunnel, window_funnel_udaf)` defines an accessor returning one
/// shared instance.
macro_rules! make_udaf {
    ($ty:ty, $accessor:ident) => {
        pub fn $accessor() -> Arc<AggregateUDF> {
            static INSTANCE: std::sync::LazyLock<Arc<AggregateUDF>> =
                std::sync::LazyLock::new(|| Arc::new(AggregateUDF::new_from_impl(<$ty>::new())));
            Arc::clone(&INSTANCE)
        }
    };
}

make_udaf!(window_funnel::WindowFunnel, window_funnel_udaf);
make_udaf!(funnel_step_times::FunnelStepTimes, funnel_step_times_udaf);
make_udaf!(retention::Retention, retention_udaf);
make_udaf!(sequence_match::SequenceMatch, sequence_match_udaf);
make_udaf!(sequence_count::SequenceCount, sequence_count_udaf);
make_udaf!(most_frequent::MostFrequent, most_frequent_udaf);
make_udaf!(top_n::TopN, top_n_udaf);

/// `tolerance_score` configured with `options` (the defaults are in [`functions`]).
pub fn tolerance_score_udaf(options: &crate::contact::ToleranceOptions) -> Arc<AggregateUDF> {
    Arc::new(AggregateUDF::new_from_impl(
        tolerance_score::ToleranceScore::new(options.clone()),
    ))
}

/// Every aggregate function of this crate.
pub fn functions() -> Vec<Arc<AggregateUDF>> {
    vec![
        window_funnel_udaf(),
        funnel_step_times_udaf(),
        retention_udaf(),
        sequence_match_udaf(),
        sequence_count_udaf(),
        most_frequent_udaf(),
        top_n_udaf(),
        tolerance_score_udaf(&crate::contact::ToleranceOptions::default()),
    ]
}
