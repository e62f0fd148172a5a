//! `explain_identity('source', person_id)`: why a person's accounts were joined, and
//! which links were refused and by which rule.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{RecordBatch, StringBuilder, TimestampMillisecondBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion_macros::user_doc;

use super::{TableFunction, batch, finish_str, finish_ts, push_ts};
use crate::identity::graph::{Graph, LinkStatus};
use crate::identity::{IdentityRules, IdentityTable, string_arg};
use crate::scalar::utc_millis;

const NAME: &str = "explain_identity";

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Explains one person of `resolve_identities(source)`. One `account` row \
    per account of the person (the anchor, whose key the person id derives from, first), \
    then one `evidence` row per identifier an account of the person carried, in the order \
    the resolver processed them: `id_type`, `id_value` (phones appear only as their keyed \
    hash), when the account first carried it, and the outcome `rule`: `linked`, or why it \
    was not used — `blocked_value`, `hub_quarantined`, `shared_device` (attached, never \
    links), `unique_union_id` or `max_phones` (the merge was refused). `other_person` names \
    the person the identifier belongs to when it is not this one.",
    syntax_example = "explain_identity('source', person_id)",
    sql_example = r#"```sql
> SELECT kind, platform, id_type, rule FROM explain_identity('events', 'p0123456789abcdef');
```"#,
    argument(
        name = "source",
        description = "Table or view name, as a string constant."
    ),
    argument(
        name = "person_id",
        description = "A person id of `resolve_identities(source)`."
    )
)]
#[derive(Debug)]
pub struct ExplainIdentityFunc {
    rules: Arc<IdentityRules>,
}

/// The output schema.
pub fn schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("person_id", DataType::Utf8, false),
            Field::new("kind", DataType::Utf8, false),
            Field::new("platform", DataType::Utf8, false),
            Field::new("account_scope", DataType::Utf8, false),
            Field::new("account_id", DataType::Utf8, false),
            Field::new("id_type", DataType::Utf8, true),
            Field::new("id_value", DataType::Utf8, true),
            Field::new("ts", utc_millis(), true),
            Field::new("rule", DataType::Utf8, true),
            Field::new("other_person", DataType::Utf8, true),
        ]))
    });
    Arc::clone(&SCHEMA)
}

fn render(graph: &Graph, person_id: &str) -> Result<RecordBatch> {
    let mut cols: Vec<StringBuilder> = (0..9).map(|_| StringBuilder::new()).collect();
    let mut ts = TimestampMillisecondBuilder::new();
    let Some(person) = graph.persons.position(person_id).map(|p| p as usize) else {
        return batch(
            &schema(),
            vec![
                finish_str(StringBuilder::new()),
                finish_str(StringBuilder::new()),
                finish_str(StringBuilder::new()),
                finish_str(StringBuilder::new()),
                finish_str(StringBuilder::new()),
                finish_str(StringBuilder::new()),
                finish_str(StringBuilder::new()),
                finish_ts(ts),
                finish_str(StringBuilder::new()),
                finish_str(StringBuilder::new()),
            ],
        );
    };
    let row = |cols: &mut Vec<StringBuilder>,
               kind: &str,
               a: u32,
               id: Option<(&str, &str)>,
               rule: Option<&str>,
               other: Option<&str>| {
        let (p, s, acc) = graph.account_key(a);
        cols[0].append_value(person_id);
        cols[1].append_value(kind);
        cols[2].append_value(p);
        cols[3].append_value(s);
        cols[4].append_value(acc);
        cols[5].append_option(id.map(|i| i.0));
        cols[6].append_option(id.map(|i| i.1));
        cols[7].append_option(rule);
        cols[8].append_option(other);
    };
    for (k, &a) in graph.members(person).iter().enumerate() {
        row(
            &mut cols,
            "account",
            a,
            None,
            (k == 0).then_some("anchor"),
            None,
        );
        push_ts(&mut ts, graph.accounts[a as usize].first_seen);
    }
    for (e, status) in graph.evidence.iter().zip(&graph.statuses) {
        if graph.person_of[e.account as usize] as usize != person {
            continue;
        }
        let ident = &graph.identifiers[e.identifier as usize];
        let other = graph.identifier_person[e.identifier as usize]
            .filter(|&p| p as usize != person && *status != LinkStatus::Blocked)
            .map(|p| graph.persons.get(p));
        row(
            &mut cols,
            "evidence",
            e.account,
            Some((ident.kind.name(), graph.identifier_value(e.identifier))),
            Some(status.name()),
            other,
        );
        push_ts(&mut ts, e.ts);
    }
    let mut cols = cols.into_iter().map(finish_str);
    let mut next = || {
        cols.next()
            .unwrap_or_else(|| finish_str(StringBuilder::new()))
    };
    let columns = vec![
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        finish_ts(ts),
        next(),
        next(),
    ];
    batch(&schema(), columns)
}

impl TableFunctionImpl for ExplainIdentityFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if exprs.len() != 2 {
            return plan_err!(
                "{NAME}: expected 2 arguments ('source', person_id), got {}",
                exprs.len()
            );
        }
        let source = string_arg(NAME, exprs, 1, "source")?;
        let person = string_arg(NAME, exprs, 2, "person_id")?;
        Ok(Arc::new(IdentityTable {
            function: NAME,
            schema: schema(),
            source,
            previous: None,
            rules: Arc::clone(&self.rules),
            render: Arc::new(move |g: &Graph, columns: &[usize]| {
                Ok(vec![render(g, &person)?.project(columns)?])
            }),
            person_column: None,
        }))
    }
}

/// The function, configured with `rules`.
pub fn udtf(rules: &Arc<IdentityRules>) -> TableFunction {
    let f = ExplainIdentityFunc {
        rules: Arc::clone(rules),
    };
    let documentation = f.doc().cloned();
    TableFunction {
        name: NAME,
        function: Arc::new(f),
        documentation,
    }
}
