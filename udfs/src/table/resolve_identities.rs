//! `resolve_identities('source' [, 'previous_map'])`: platform accounts -> persons.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    ArrayRef, RecordBatch, RecordBatchOptions, StringBuilder, TimestampMillisecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::internal_err;
use datafusion::error::Result;
use datafusion_macros::user_doc;

use super::{TableFunction, finish_str, finish_ts, push_ts};
use crate::identity::graph::Graph;
use crate::identity::{IdentityRules, IdentityTable, PARALLEL_ROWS, parallel, source_and_previous};
use crate::scalar::utc_millis;

const NAME: &str = "resolve_identities";

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Resolves platform accounts into persons. One row per account \
    `(platform, account_scope, account_id)` of `source` (any table or view with the \
    `events` identity columns `platform, account_scope, account_id, event_ts, union_id, \
    phone_key, device_id`). Accounts are linked by a shared `union_id` (scoped by \
    platform), `phone_key`, `device_id` and the `members` table's phone and member links, \
    with a native union-find processed in a canonical order (earliest evidence first; ties \
    by identifier type, then by a fixed hash of the identifier and account keys), so the answer never depends on input order. Guards: \
    blocked values (`identity.blocked_values`: all-zero ids, `unknown`, `null`, empty, \
    `-1`...), hub values on more than `identity.hub_threshold` accounts (quarantined), two \
    union ids of one platform never merge, at most `identity.max_phones` phones per \
    person, and a device seen on two accounts of one platform scope (a family tablet, a \
    shop phone) attaches but never links. `person_id` is `p` + 16 hex digits derived from \
    the person's anchor account (earliest seen, ties by key), so newer data never renames \
    a person and a merge keeps the older id. With `previous_map` (a table with `platform, \
    account_scope, account_id, person_id, first_seen`, e.g. an earlier output), ids carry \
    over: a person holding an old person's anchor account keeps the old id, the oldest \
    when several merged. Rows come in account key order up to 65,535 accounts; larger \
    results are read in parallel, so use `ORDER BY` when the order matters. The result \
    reports exact statistics (rows, and the number of persons as `person_id`'s distinct \
    count), so `count(*)` and `count(DISTINCT person_id)` are answered without reading \
    the rows.",
    syntax_example = "resolve_identities('source' [, 'previous_map'])",
    sql_example = r#"```sql
> SELECT count(DISTINCT person_id) AS persons, count(*) AS accounts
  FROM resolve_identities('events');
```"#,
    argument(
        name = "source",
        description = "Table or view name, as a string constant."
    ),
    argument(
        name = "previous_map",
        description = "Optional table or view of an earlier mapping whose ids carry over."
    )
)]
#[derive(Debug)]
pub struct ResolveIdentitiesFunc {
    rules: Arc<IdentityRules>,
}

/// The output schema.
pub fn schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("platform", DataType::Utf8, false),
            Field::new("account_scope", DataType::Utf8, false),
            Field::new("account_id", DataType::Utf8, false),
            Field::new("person_id", DataType::Utf8, false),
            Field::new("first_seen", utc_millis(), true),
            Field::new("last_seen", utc_millis(), true),
        ]))
    });
    Arc::clone(&SCHEMA)
}

/// One row per account, with the `columns` of the schema asked for: small results in
/// account key order; large ones (read in parallel, so in no particular order anyway)
/// person after person, in one batch per thread, built in parallel. A person's accounts
/// are then in one batch, so each partition of the scan holds its own persons, and
/// `count(DISTINCT person_id)` merges sets that do not overlap.
pub fn render(graph: &Graph, columns: &[usize]) -> Result<Vec<RecordBatch>> {
    let n = graph.accounts.len();
    if n < PARALLEL_ROWS {
        return Ok(vec![render_accounts(
            graph,
            &graph.accounts_by_key(),
            columns,
        )?]);
    }
    parallel::chunks(graph.threads, graph.persons.len(), |persons| {
        render_accounts(graph, graph.members_of(persons), columns)
    })
    .into_iter()
    .collect()
}

/// The columns of the schema, by position.
const PLATFORM: usize = 0;
const SCOPE: usize = 1;
const ACCOUNT: usize = 2;
const PERSON: usize = 3;
const FIRST_SEEN: usize = 4;
const LAST_SEEN: usize = 5;

fn render_accounts(graph: &Graph, accounts: &[u32], columns: &[usize]) -> Result<RecordBatch> {
    let n = accounts.len();
    // Only the columns asked for are built (`count(*)` asks for none).
    let text = |c: usize, width: usize| {
        columns
            .contains(&c)
            .then(|| StringBuilder::with_capacity(n, n * width))
    };
    let time = |c: usize| {
        columns
            .contains(&c)
            .then(|| TimestampMillisecondBuilder::with_capacity(n))
    };
    let (mut platform, mut scope, mut account) =
        (text(PLATFORM, 8), text(SCOPE, 16), text(ACCOUNT, 32));
    let (mut person, mut first, mut last) = (text(PERSON, 17), time(FIRST_SEEN), time(LAST_SEEN));
    let keys = platform.is_some() || scope.is_some() || account.is_some();
    let times = first.is_some() || last.is_some();
    for (k, &a) in accounts.iter().enumerate() {
        // What the accounts a few rows on need is read ahead.
        let ahead = |d: usize| accounts.get(k + d).copied();
        if keys || times {
            graph.prefetch_account(ahead(16), false);
        }
        if keys {
            graph.prefetch_account(ahead(8), true);
        }
        if let Some(person) = &mut person {
            graph.prefetch_person(ahead(16), false);
            graph.prefetch_person(ahead(8), true);
            person.append_value(graph.persons.get(graph.person_of[a as usize]));
        }
        if keys {
            let (p, s, id) = graph.account_key(a);
            for (b, v) in [(&mut platform, p), (&mut scope, s), (&mut account, id)] {
                if let Some(b) = b {
                    b.append_value(v);
                }
            }
        }
        if times {
            let acc = &graph.accounts[a as usize];
            for (b, ts) in [(&mut first, acc.first_seen), (&mut last, acc.last_seen)] {
                if let Some(b) = b {
                    push_ts(b, ts);
                }
            }
        }
    }
    let built: [Option<ArrayRef>; 6] = [
        platform.map(finish_str),
        scope.map(finish_str),
        account.map(finish_str),
        person.map(finish_str),
        first.map(finish_ts),
        last.map(finish_ts),
    ];
    let Some(arrays) = columns.iter().map(|&c| built[c].clone()).collect() else {
        return internal_err!("{NAME}: columns {columns:?} not built");
    };
    Ok(RecordBatch::try_new_with_options(
        schema().project(columns).map(Arc::new)?,
        arrays,
        &RecordBatchOptions::new().with_row_count(Some(n)),
    )?)
}

impl TableFunctionImpl for ResolveIdentitiesFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let (source, previous) = source_and_previous(NAME, args.exprs())?;
        Ok(Arc::new(IdentityTable {
            function: NAME,
            schema: schema(),
            source,
            previous,
            rules: Arc::clone(&self.rules),
            render: Arc::new(render),
            person_column: Some(PERSON),
        }))
    }
}

/// The function, configured with `rules`.
pub fn udtf(rules: &Arc<IdentityRules>) -> TableFunction {
    let f = ResolveIdentitiesFunc {
        rules: Arc::clone(rules),
    };
    let documentation = f.doc().cloned();
    TableFunction {
        name: NAME,
        function: Arc::new(f),
        documentation,
    }
}
