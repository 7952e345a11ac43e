//! Lists the database counts, sorts and pages by itself (an exact SQL filter on an indexed
//! sort). In creation order, a page starts after the row that ended an earlier page of
//! the same list when the reader knows it ([`Walks`]), instead of skipping every row
//! before it.

use rusqlite::types::Value as SqlValue;
use serde_json::{Value, json};

use super::{ListRun, Page, Sql};
use crate::db::{Walks, walks};
use crate::error::AppResult;
use crate::scim::kind::Kind;
use crate::scim::store::{Row, row_columns, row_from_sql};

/// Counting, sorting and paging all done by SQLite.
pub(super) fn run_sql(
    list: &ListRun<'_>,
    walks: &mut Walks,
    sql: &Sql,
    sort_column: &str,
) -> AppResult<Page> {
    let (conn, kind, org, params) = (list.conn, list.kind, list.org, list.params);
    let mut args: Vec<SqlValue> = vec![SqlValue::Text(org.to_owned())];
    args.extend(sql.params.iter().cloned());
    let matching = format!(
        "{table} t WHERE t.org = ?1 AND {visible} AND ({filter})",
        table = kind.table(),
        visible = params.visible(kind),
        filter = sql.text
    );
    // Counted once while nothing changes: a client walking the pages pays for it once.
    let total = walks.count(conn, &format!("SELECT count(*) FROM {matching}"), &args)?;
    let offset = params.start_index.saturating_sub(1);
    if params.count == 0 || offset >= total {
        return Ok(Page {
            total,
            resources: Vec::new(),
        });
    }
    let direction = if params.descending { "DESC" } else { "ASC" };
    // Creation order walks the primary key; any other column sorts missing values last.
    let order = if sort_column == "seq" {
        format!("t.seq {direction}")
    } else {
        format!("t.{sort_column} {direction} NULLS LAST, t.seq {direction}")
    };
    let page = PageSpec {
        list,
        matching: &matching,
        args: &args,
        order: &order,
        offset,
    };
    // Only creation order can start after a known row: `seq` alone orders it.
    let walk = (sort_column == "seq")
        .then(|| walks::key_of(&format!("{matching} ORDER BY {order}\u{1f}{args:?}")));
    let start = walk.and_then(|walk| walks.mark_before(&walk, offset));
    let (mut resources, mut last) = page.read(start)?;
    if !walks.unchanged(conn)? {
        // Something was committed meanwhile: the known row may have moved.
        last = None;
        if start.is_some() {
            resources = page.read(None)?.0;
        }
    }
    if let (Some(walk), Some(seq)) = (walk, last) {
        walks.mark(&walk, offset + resources.len() - 1, seq);
    }
    Ok(Page { total, resources })
}

/// One page of a list: the matching rows (`FROM … WHERE …`), their arguments, their order
/// and the offset of the page's first row.
struct PageSpec<'a> {
    list: &'a ListRun<'a>,
    matching: &'a str,
    args: &'a [SqlValue],
    order: &'a str,
    offset: usize,
}

impl PageSpec<'_> {
    /// The page's resources and the `seq` of its last row, starting after the row `start`
    /// (its offset and `seq`) when one is known, else skipping `offset` rows.
    fn read(&self, start: Option<(usize, i64)>) -> AppResult<(Vec<Value>, Option<i64>)> {
        let mut args = self.args.to_vec();
        let (after, skip) = match start {
            Some((at, seq)) => {
                args.push(SqlValue::Integer(seq));
                let beyond = if self.list.params.descending {
                    "<"
                } else {
                    ">"
                };
                (
                    format!(" AND t.seq {beyond} ?{}", args.len()),
                    self.offset - at - 1,
                )
            }
            None => (String::new(), self.offset),
        };
        let range = format!(
            "{}{after} ORDER BY {} LIMIT {} OFFSET {skip}",
            self.matching, self.order, self.list.params.count
        );
        if self.list.params.selection.is_ids_only(self.list.kind) {
            ids_page(self.list, &range, &args)
        } else {
            self.whole_page(&range, &args)
        }
    }

    /// Sort and skip row ids only, then read the page's documents: the sorter never
    /// carries documents, and the skip can stay inside an index.
    fn whole_page(&self, range: &str, args: &[SqlValue]) -> AppResult<(Vec<Value>, Option<i64>)> {
        let (list, order) = (self.list, self.order);
        let page_sql = format!(
            "SELECT {columns} FROM {table} t WHERE t.seq IN (SELECT t.seq FROM {range}) \
             ORDER BY {order}",
            columns = row_columns(list.kind),
            table = list.kind.table(),
        );
        let mut stmt = list.conn.prepare(&page_sql)?;
        let rows: Vec<Row> = stmt
            .query_map(rusqlite::params_from_iter(args), row_from_sql)?
            .collect::<Result<_, _>>()?;
        let last = rows.last().map(|row| row.seq);
        Ok((list.render(rows)?, last))
    }
}

/// A page of `schemas` and `id` only (`attributes=id`): read without parsing, rendering
/// or projecting any document. Which extensions a user has (its `schemas`, as
/// [`render::resource`](crate::scim::render::resource) lists them) is its `extensions`
/// column; groups have none.
fn ids_page(
    list: &ListRun<'_>,
    range: &str,
    args: &[SqlValue],
) -> AppResult<(Vec<Value>, Option<i64>)> {
    let schema = list.kind.schema();
    let bits = match list.kind {
        Kind::User => "t.extensions",
        Kind::Group => "0",
    };
    let mut stmt = list
        .conn
        .prepare(&format!("SELECT t.seq, t.id, {bits} FROM {range}"))?;
    let core = Value::String(schema.core.id.clone());
    let mut last = None;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |row| {
        let bits: i64 = row.get(2)?;
        let mut schemas = vec![core.clone()];
        for (index, (extension, _)) in schema.extensions.iter().enumerate() {
            if bits & 1 << index != 0 {
                schemas.push(Value::String(extension.id.clone()));
            }
        }
        last = Some(row.get::<_, i64>(0)?);
        Ok(json!({"schemas": schemas, "id": row.get::<_, String>(1)?}))
    })?;
    let resources = rows.collect::<Result<_, _>>()?;
    Ok((resources, last))
}
