//! Singleton accessors for functions, as DataFusion's own crates do.

/// `make_udf!(FromEpochFunc, from_epoch_udf)` defines `pub fn from_epoch_udf() ->
/// Arc<ScalarUDF>` returning one shared instance.
macro_rules! make_udf {
    ($ty:ty, $accessor:ident) => {
        pub fn $accessor() -> std::sync::Arc<datafusion::logical_expr::ScalarUDF> {
            static INSTANCE: std::sync::LazyLock<
                std::sync::Arc<datafusion::logical_expr::ScalarUDF>,
            > = std::sync::LazyLock::new(|| {
                std::sync::Arc::new(datafusion::logical_expr::ScalarUDF::new_from_impl(
                    <$ty>::new(),
                ))
            });
            std::sync::Arc::clone(&INSTANCE)
        }
    };
}

pub(crate) use make_udf;
