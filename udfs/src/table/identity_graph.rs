//! `identity_graph('source')`: a summary of the identity graph an analyst can query.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Int64Builder, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;
use datafusion_macros::user_doc;

use super::{TableFunction, batch, finish_str};
use crate::identity::graph::{Graph, IdType, LinkStatus};
use crate::identity::{IdentityRules, IdentityTable, source_and_previous};

const NAME: &str = "identity_graph";

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Summarises the identity graph of `resolve_identities(source)` as \
    `(section, item, value)` rows: `total` (accounts, persons, identifiers, evidence), \
    `component_size` (item = accounts per person, value = persons of that size), \
    `links_by_rule` (evidence rows per outcome: `linked`, `blocked_value`, \
    `hub_quarantined`, `shared_device`, `unique_union_id`, `max_phones`), and one row per \
    `blocked_value`, `quarantined_hub` and `shared_device` identifier (item = \
    `id_type:value`, value = distinct accounts that carried it). With `previous_map`, \
    `redirect` rows name the retired person ids a merge folded into an older one (item = \
    `old -> surviving`).",
    syntax_example = "identity_graph('source' [, 'previous_map'])",
    sql_example = r#"```sql
> SELECT item, value FROM identity_graph('events') WHERE section = 'links_by_rule';
```"#,
    argument(
        name = "source",
        description = "Table or view name, as a string constant."
    ),
    argument(
        name = "previous_map",
        description = "Optional earlier mapping (as for `resolve_identities`)."
    )
)]
#[derive(Debug)]
pub struct IdentityGraphFunc {
    rules: Arc<IdentityRules>,
}

/// The output schema.
pub fn schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("section", DataType::Utf8, false),
            Field::new("item", DataType::Utf8, false),
            Field::new("value", DataType::Int64, false),
        ]))
    });
    Arc::clone(&SCHEMA)
}

fn render(graph: &Graph) -> Result<RecordBatch> {
    let mut section = StringBuilder::new();
    let mut item = StringBuilder::new();
    let mut value = Int64Builder::new();
    let mut push = |s: &str, i: &str, v: usize| {
        section.append_value(s);
        item.append_value(i);
        value.append_value(v as i64);
    };
    push("total", "accounts", graph.accounts.len());
    push("total", "persons", graph.persons.len());
    push("total", "identifiers", graph.identifiers.len());
    push("total", "evidence", graph.evidence.len());
    let mut sizes: BTreeMap<usize, usize> = BTreeMap::new();
    for p in 0..graph.persons.len() {
        *sizes.entry(graph.members(p).len()).or_default() += 1;
    }
    for (size, count) in sizes {
        push("component_size", &size.to_string(), count);
    }
    let mut by_rule: BTreeMap<&str, usize> =
        LinkStatus::ALL.iter().map(|s| (s.name(), 0)).collect();
    let mut flagged: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for (e, status) in graph.evidence.iter().zip(&graph.statuses) {
        *by_rule.entry(status.name()).or_default() += 1;
        let section = match status {
            LinkStatus::Blocked => "blocked_value",
            LinkStatus::Hub => "quarantined_hub",
            LinkStatus::SharedDevice => "shared_device",
            _ => continue,
        };
        let ident = &graph.identifiers[e.identifier as usize];
        let scope = match ident.kind {
            IdType::UnionId => format!("{}@{}", ident.kind.name(), graph.str(ident.scope)),
            _ => ident.kind.name().to_string(),
        };
        flagged.insert(
            (
                section,
                format!("{scope}:{}", graph.identifier_value(e.identifier)),
            ),
            graph.degree[e.identifier as usize] as usize,
        );
    }
    for (rule, count) in by_rule {
        push("links_by_rule", rule, count);
    }
    for ((section, name), degree) in flagged {
        push(section, &name, degree);
    }
    for (old, new) in &graph.redirects {
        push("redirect", &format!("{old} -> {new}"), 1);
    }
    batch(
        &schema(),
        vec![
            finish_str(section),
            finish_str(item),
            std::sync::Arc::new(value.finish()),
        ],
    )
}

impl TableFunctionImpl for IdentityGraphFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let (source, previous) = source_and_previous(NAME, args.exprs())?;
        Ok(Arc::new(IdentityTable {
            function: NAME,
            schema: schema(),
            source,
            previous,
            rules: Arc::clone(&self.rules),
            render: Arc::new(|g: &Graph, columns: &[usize]| Ok(vec![render(g)?.project(columns)?])),
            person_column: None,
        }))
    }
}

/// The function, configured with `rules`.
pub fn udtf(rules: &Arc<IdentityRules>) -> TableFunction {
    let f = IdentityGraphFunc {
        rules: Arc::clone(rules),
    };
    let documentation = f.doc().cloned();
    TableFunction {
        name: NAME,
        function: Arc::new(f),
        documentation,
    }
}
