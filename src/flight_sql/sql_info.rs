//! What the server tells clients about itself: every `SqlInfo` id of the Flight SQL spec
//! (JDBC drivers before 19 fail on a missing one) and the XDBC type list.
//!
//! The values follow InfluxDB 3's list (`influxdata/influxdb3_core: flightsql/src/sql_info`),
//! adjusted for plinkdb: read-only by default, no transactions, DataFusion's SQL.

use std::collections::HashMap;

use arrow_flight::error::FlightError;
use arrow_flight::sql::metadata::{
    SqlInfoData, SqlInfoDataBuilder, XdbcTypeInfo, XdbcTypeInfoData, XdbcTypeInfoDataBuilder,
};
use arrow_flight::sql::{
    Nullable, Searchable, SqlInfo, SqlNullOrdering, SqlSupportedCaseSensitivity,
    SqlSupportedTransaction, SqlSupportsConvert, XdbcDataType,
};

const KEYWORDS: &[&str] = &[
    "absolute",
    "action",
    "add",
    "all",
    "allocate",
    "alter",
    "analyze",
    "and",
    "any",
    "are",
    "array",
    "as",
    "asc",
    "between",
    "by",
    "cascade",
    "case",
    "cast",
    "copy",
    "create",
    "cross",
    "cube",
    "current",
    "describe",
    "distinct",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "explain",
    "external",
    "filter",
    "following",
    "for",
    "from",
    "full",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "inner",
    "intersect",
    "interval",
    "is",
    "join",
    "lateral",
    "left",
    "like",
    "limit",
    "location",
    "natural",
    "not",
    "null",
    "nulls",
    "offset",
    "on",
    "or",
    "order",
    "outer",
    "over",
    "partition",
    "preceding",
    "qualify",
    "range",
    "recursive",
    "right",
    "rollup",
    "rows",
    "select",
    "set",
    "show",
    "similar",
    "stored",
    "table",
    "then",
    "unbounded",
    "union",
    "unnest",
    "using",
    "values",
    "view",
    "when",
    "where",
    "window",
    "with",
];

const NUMERIC_FUNCTIONS: &[&str] = &[
    "abs", "acos", "asin", "atan", "atan2", "cbrt", "ceil", "cos", "degrees", "exp", "floor", "ln",
    "log", "log10", "log2", "mod", "pi", "power", "radians", "random", "round", "signum", "sin",
    "sqrt", "tan", "trunc",
];

const STRING_FUNCTIONS: &[&str] = &[
    "ascii",
    "btrim",
    "char_length",
    "concat",
    "concat_ws",
    "initcap",
    "left",
    "length",
    "lower",
    "lpad",
    "ltrim",
    "md5",
    "octet_length",
    "regexp_match",
    "regexp_replace",
    "repeat",
    "replace",
    "reverse",
    "right",
    "rpad",
    "rtrim",
    "sha256",
    "split_part",
    "starts_with",
    "strpos",
    "substr",
    "to_hex",
    "translate",
    "trim",
    "upper",
];

const SYSTEM_FUNCTIONS: &[&str] = &[
    "arrow_typeof",
    "phone_key",
    "window_funnel",
    "funnel_step_times",
    "retention",
    "sequence_match",
    "sequence_count",
    "resolve_identities",
    "explain_identity",
    "identity_graph",
];

const DATETIME_FUNCTIONS: &[&str] = &[
    "current_date",
    "current_time",
    "date_bin",
    "date_part",
    "date_trunc",
    "datepart",
    "datetrunc",
    "from_unixtime",
    "now",
    "to_timestamp",
    "to_timestamp_micros",
    "to_timestamp_millis",
    "to_timestamp_seconds",
];

/// Every SqlInfo id with plinkdb's answer.
///
/// # Errors
/// Never in practice (the values are fixed); arrow's builder is fallible.
pub fn sql_info_data(read_only: bool) -> Result<SqlInfoData, FlightError> {
    let mut b = SqlInfoDataBuilder::new();
    b.append(SqlInfo::FlightSqlServerName, "plinkdb");
    b.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    // The Arrow format version (Schema.fbs), not the arrow-rs version.
    b.append(SqlInfo::FlightSqlServerArrowVersion, "1.3");
    b.append(SqlInfo::FlightSqlServerReadOnly, read_only);
    b.append(SqlInfo::FlightSqlServerSql, true);
    b.append(SqlInfo::FlightSqlServerSubstrait, false);
    b.append(SqlInfo::FlightSqlServerSubstraitMinVersion, "");
    b.append(SqlInfo::FlightSqlServerSubstraitMaxVersion, "");
    b.append(
        SqlInfo::FlightSqlServerTransaction,
        SqlSupportedTransaction::None as i32,
    );
    b.append(SqlInfo::FlightSqlServerCancel, false);
    b.append(SqlInfo::FlightSqlServerBulkIngestion, false);
    b.append(SqlInfo::FlightSqlServerIngestTransactionsSupported, false);
    b.append(SqlInfo::FlightSqlServerStatementTimeout, 0i32);
    b.append(SqlInfo::FlightSqlServerTransactionTimeout, 0i32);
    b.append(SqlInfo::SqlDdlCatalog, false);
    b.append(SqlInfo::SqlDdlSchema, false);
    b.append(SqlInfo::SqlDdlTable, false);
    b.append(
        SqlInfo::SqlIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityLowercase as i32,
    );
    b.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    b.append(
        SqlInfo::SqlQuotedIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityCaseInsensitive as i32,
    );
    b.append(SqlInfo::SqlAllTablesAreSelectable, true);
    b.append(
        SqlInfo::SqlNullOrdering,
        SqlNullOrdering::SqlNullsSortedHigh as i32,
    );
    b.append(SqlInfo::SqlKeywords, KEYWORDS);
    b.append(SqlInfo::SqlNumericFunctions, NUMERIC_FUNCTIONS);
    b.append(SqlInfo::SqlStringFunctions, STRING_FUNCTIONS);
    b.append(SqlInfo::SqlSystemFunctions, SYSTEM_FUNCTIONS);
    b.append(SqlInfo::SqlDatetimeFunctions, DATETIME_FUNCTIONS);
    b.append(SqlInfo::SqlSearchStringEscape, "\\");
    b.append(SqlInfo::SqlExtraNameCharacters, "");
    b.append(SqlInfo::SqlSupportsColumnAliasing, true);
    b.append(SqlInfo::SqlNullPlusNullIsNull, true);
    let mut convert: HashMap<i32, Vec<i32>> = HashMap::new();
    let numeric = [
        SqlSupportsConvert::SqlConvertBigint,
        SqlSupportsConvert::SqlConvertDecimal,
        SqlSupportsConvert::SqlConvertFloat,
        SqlSupportsConvert::SqlConvertInteger,
        SqlSupportsConvert::SqlConvertReal,
        SqlSupportsConvert::SqlConvertSmallint,
        SqlSupportsConvert::SqlConvertTinyint,
        SqlSupportsConvert::SqlConvertVarchar,
    ]
    .map(|c| c as i32);
    for from in numeric {
        convert.insert(from, numeric.to_vec());
    }
    b.append(SqlInfo::SqlSupportsConvert, convert);
    b.append(SqlInfo::SqlSupportsTableCorrelationNames, true);
    b.append(SqlInfo::SqlSupportsDifferentTableCorrelationNames, false);
    b.append(SqlInfo::SqlSupportsExpressionsInOrderBy, true);
    b.append(SqlInfo::SqlSupportsOrderByUnrelated, true);
    // Bitmasks: GROUP BY unrelated (bit 0) and beyond select (bit 1).
    b.append(SqlInfo::SqlSupportedGroupBy, 3i32);
    b.append(SqlInfo::SqlSupportsLikeEscapeClause, true);
    b.append(SqlInfo::SqlSupportsNonNullableColumns, true);
    // Minimum and core grammar (bits 0, 1).
    b.append(SqlInfo::SqlSupportedGrammar, 3i32);
    b.append(SqlInfo::SqlSupportsIntegrityEnhancementFacility, false);
    // Full outer joins.
    b.append(SqlInfo::SqlOuterJoinsSupportLevel, 2i32);
    b.append(SqlInfo::SqlSchemaTerm, "schema");
    b.append(SqlInfo::SqlProcedureTerm, "procedure");
    b.append(SqlInfo::SqlCatalogTerm, "catalog");
    b.append(SqlInfo::SqlCatalogAtStart, true);
    b.append(SqlInfo::SqlSchemasSupportedActions, 0i32);
    b.append(SqlInfo::SqlCatalogsSupportedActions, 0i32);
    b.append(SqlInfo::SqlSupportedPositionedCommands, 0i32);
    b.append(SqlInfo::SqlSelectForUpdateSupported, false);
    b.append(SqlInfo::SqlStoredProceduresSupported, false);
    // Comparisons, EXISTS, IN, quantified (bits 0-3).
    b.append(SqlInfo::SqlSupportedSubqueries, 15i32);
    b.append(SqlInfo::SqlCorrelatedSubqueriesSupported, true);
    // UNION and UNION ALL.
    b.append(SqlInfo::SqlSupportedUnions, 3i32);
    for limit in [
        SqlInfo::SqlMaxBinaryLiteralLength,
        SqlInfo::SqlMaxCharLiteralLength,
        SqlInfo::SqlMaxColumnNameLength,
        SqlInfo::SqlMaxColumnsInGroupBy,
        SqlInfo::SqlMaxColumnsInIndex,
        SqlInfo::SqlMaxColumnsInOrderBy,
        SqlInfo::SqlMaxColumnsInSelect,
        SqlInfo::SqlMaxColumnsInTable,
        SqlInfo::SqlMaxConnections,
        SqlInfo::SqlMaxCursorNameLength,
        SqlInfo::SqlMaxIndexLength,
        SqlInfo::SqlDbSchemaNameLength,
        SqlInfo::SqlMaxProcedureNameLength,
        SqlInfo::SqlMaxCatalogNameLength,
        SqlInfo::SqlMaxRowSize,
        SqlInfo::SqlMaxStatementLength,
        SqlInfo::SqlMaxStatements,
        SqlInfo::SqlMaxTableNameLength,
        SqlInfo::SqlMaxTablesInSelect,
        SqlInfo::SqlMaxUsernameLength,
    ] {
        // 0 = no limit known.
        b.append(limit, 0i64);
    }
    b.append(SqlInfo::SqlMaxRowSizeIncludesBlobs, true);
    // SQL_TRANSACTION_NONE.
    b.append(SqlInfo::SqlDefaultTransactionIsolation, 0i32);
    b.append(SqlInfo::SqlTransactionsSupported, false);
    b.append(SqlInfo::SqlSupportedTransactionsIsolationLevels, 0i32);
    b.append(SqlInfo::SqlDataDefinitionCausesTransactionCommit, false);
    b.append(SqlInfo::SqlDataDefinitionsInTransactionsIgnored, true);
    // Forward-only result sets (bit 1), read-only concurrency (bit 1).
    b.append(SqlInfo::SqlSupportedResultSetTypes, 2i32);
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetUnspecified,
        0i32,
    );
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetForwardOnly,
        2i32,
    );
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetScrollSensitive,
        0i32,
    );
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetScrollInsensitive,
        0i32,
    );
    b.append(SqlInfo::SqlBatchUpdatesSupported, false);
    b.append(SqlInfo::SqlSavepointsSupported, false);
    b.append(SqlInfo::SqlNamedParametersSupported, false);
    b.append(SqlInfo::SqlLocatorsUpdateCopy, false);
    b.append(SqlInfo::SqlStoredFunctionsUsingCallSyntaxSupported, false);
    b.build()
}

/// One XDBC type row.
fn xdbc(name: &str, data_type: XdbcDataType, column_size: Option<i32>) -> XdbcTypeInfo {
    let text = matches!(data_type, XdbcDataType::XdbcVarchar);
    XdbcTypeInfo {
        type_name: name.into(),
        data_type,
        column_size,
        literal_prefix: text.then(|| "'".into()),
        literal_suffix: text.then(|| "'".into()),
        create_params: None,
        nullable: Nullable::NullabilityNullable,
        case_sensitive: text,
        searchable: Searchable::Full,
        unsigned_attribute: Some(false),
        fixed_prec_scale: false,
        auto_increment: Some(false),
        local_type_name: Some(name.into()),
        minimum_scale: None,
        maximum_scale: None,
        sql_data_type: data_type,
        datetime_subcode: None,
        num_prec_radix: (!text).then_some(10),
        interval_precision: None,
    }
}

/// The SQL types plinkdb's tables use.
///
/// # Errors
/// Never in practice (the values are fixed); arrow's builder is fallible.
pub fn xdbc_type_info_data() -> Result<XdbcTypeInfoData, FlightError> {
    let mut b = XdbcTypeInfoDataBuilder::new();
    b.append(xdbc("BOOLEAN", XdbcDataType::XdbcBit, Some(1)));
    b.append(xdbc("TINYINT", XdbcDataType::XdbcTinyint, Some(3)));
    b.append(xdbc("BIGINT", XdbcDataType::XdbcBigint, Some(19)));
    b.append(xdbc("VARBINARY", XdbcDataType::XdbcVarbinary, None));
    b.append(xdbc("VARCHAR", XdbcDataType::XdbcVarchar, None));
    b.append(xdbc("DECIMAL", XdbcDataType::XdbcDecimal, Some(38)));
    b.append(xdbc("INTEGER", XdbcDataType::XdbcInteger, Some(10)));
    b.append(xdbc("SMALLINT", XdbcDataType::XdbcSmallint, Some(5)));
    b.append(xdbc("FLOAT", XdbcDataType::XdbcFloat, Some(24)));
    b.append(xdbc("DOUBLE", XdbcDataType::XdbcDouble, Some(53)));
    b.append(xdbc("DATE", XdbcDataType::XdbcDate, Some(10)));
    b.append(xdbc("TIMESTAMP", XdbcDataType::XdbcTimestamp, Some(29)));
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sql_info_id_is_answered() {
        let data = sql_info_data(true).unwrap();
        let all = data.record_batch(Vec::<u32>::new()).unwrap();
        // 12 server ids, 2 timeouts, 76 SQL ids (526 does not exist).
        assert_eq!(all.num_rows(), 90);
        assert_eq!(
            xdbc_type_info_data()
                .unwrap()
                .record_batch(None)
                .unwrap()
                .num_rows(),
            12
        );
    }
}
