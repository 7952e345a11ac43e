//! List queries: `filter`, `sortBy`/`sortOrder`, `startIndex`/`count` and the attribute
//! selection, from a GET query string or a `/.search` body.
//!
//! A filter runs in one of two ways. When every part of it touches only attributes that
//! have their own indexed column (userName, name.familyName, emails, meta.lastModified…),
//! it becomes SQL and the database counts, sorts and pages. Otherwise the parts that can be
//! SQL narrow the candidates and [`muster_scim::filter::matches`] decides each remaining
//! resource, so any attribute, extension attributes included, can be filtered on.

use std::cmp::Ordering;
use std::collections::HashMap;

use muster_scim::filter::{AttrPath, CompValue, CompareOp, Filter, parse_attr_path, parse_filter};
use muster_scim::message::{SearchRequest, SortOrder};
use muster_scim::schema::AttributeType;
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::Value;
use time::OffsetDateTime;

use super::kind::{Kind, fold};
use super::render::{self, Selection};
use super::store::{self, Row, normalize_time, row_columns, row_from_sql};
use crate::db::Walks;
use crate::error::{AppError, AppResult};
use muster_scim::message::ScimType;

mod paged;

/// The list query parameter that includes soft-deleted users.
pub const INCLUDE_DELETED: &str = "includeDeleted";

/// `includeDeleted`: `true` or `false` (any case); anything else is refused.
pub fn parse_include_deleted(value: Option<&str>) -> AppResult<bool> {
    match value.map(str::trim) {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(AppError::invalid_value(format!(
            "{INCLUDE_DELETED} is true or false, not '{v}'."
        ))),
    }
}

/// A parsed list request.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    /// `filter`.
    pub filter: Option<Filter>,
    /// `sortBy`.
    pub sort_by: Option<AttrPath>,
    /// `sortOrder=descending`.
    pub descending: bool,
    /// 1-based index of the first result.
    pub start_index: usize,
    /// Page size, already capped at the server's maximum.
    pub count: usize,
    /// `attributes` / `excludedAttributes`.
    pub selection: Selection,
    /// `includeDeleted=true`: soft-deleted users too (system admins only; Muster's own
    /// parameter, advertised in the `/actions` document).
    pub include_deleted: bool,
}

impl ListParams {
    /// The SQL condition (over alias `t`) for the rows this request may see.
    fn visible(&self, kind: Kind) -> &'static str {
        if self.include_deleted {
            "1"
        } else {
            kind.visible()
        }
    }
}

impl ListParams {
    /// Parses query-string pairs; parameter names compare case-insensitively.
    pub fn from_query(pairs: &[(String, String)], max_results: usize) -> AppResult<Self> {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let mut params = Self {
            start_index: 1,
            count: max_results,
            ..Self::default()
        };
        if let Some(filter) = get("filter") {
            params.filter = Some(parse_filter_param(filter)?);
        }
        if let Some(sort_by) = get("sortBy") {
            params.sort_by = Some(parse_path_param("sortBy", sort_by)?);
        }
        if let Some(order) = get("sortOrder") {
            params.descending = parse_sort_order(order)?;
        }
        if let Some(start) = get("startIndex") {
            params.start_index = parse_start_index(start)?;
        }
        if let Some(count) = get("count") {
            params.count = parse_count(count, max_results)?;
        }
        params.selection = Selection::parse(get("attributes"), get("excludedAttributes"))?;
        params.include_deleted = parse_include_deleted(get(INCLUDE_DELETED))?;
        Ok(params)
    }

    /// Reads a SearchRequest body (`POST /.search`).
    pub fn from_search(request: SearchRequest, max_results: usize) -> AppResult<Self> {
        let filter = request
            .filter
            .as_deref()
            .map(parse_filter_param)
            .transpose()?;
        let sort_by = request
            .sort_by
            .as_deref()
            .map(|path| parse_path_param("sortBy", path))
            .transpose()?;
        let count = match request.count {
            Some(count) => usize::try_from(count)
                .unwrap_or(usize::MAX)
                .min(max_results),
            None => max_results,
        };
        let start_index = match request.start_index {
            Some(start) => usize::try_from(start.max(1)).unwrap_or(usize::MAX),
            None => 1,
        };
        let selection = Selection::from_lists(&request.attributes, &request.excluded_attributes)?;
        Ok(Self {
            filter,
            sort_by,
            descending: matches!(request.sort_order, Some(SortOrder::Descending)),
            start_index,
            count,
            selection,
            // `POST /.search` is the standard query only.
            include_deleted: false,
        })
    }
}

fn parse_filter_param(text: &str) -> AppResult<Filter> {
    let filter = parse_filter(text).map_err(|error| {
        AppError::bad_request(
            ScimType::InvalidFilter,
            format!("The filter is not valid: {error}."),
        )
    })?;
    Ok(filter)
}

fn parse_path_param(name: &str, text: &str) -> AppResult<AttrPath> {
    parse_attr_path(text.trim()).map_err(|error| {
        AppError::bad_request(
            ScimType::InvalidPath,
            format!("{name} is not an attribute path: {error}."),
        )
    })
}

fn parse_sort_order(text: &str) -> AppResult<bool> {
    if text.eq_ignore_ascii_case("ascending") {
        Ok(false)
    } else if text.eq_ignore_ascii_case("descending") {
        Ok(true)
    } else {
        Err(AppError::invalid_value(format!(
            "sortOrder must be 'ascending' or 'descending', not '{text}'."
        )))
    }
}

/// `startIndex`: a whole number; values below 1 mean 1 (RFC 7644 §3.4.2.4).
fn parse_start_index(text: &str) -> AppResult<usize> {
    let value: i128 = text.trim().parse().map_err(|_| {
        AppError::invalid_value(format!("startIndex must be a whole number, not '{text}'."))
    })?;
    Ok(usize::try_from(value.max(1)).unwrap_or(usize::MAX))
}

/// `count`: a whole number; negative means 0, and more than the maximum means the maximum.
fn parse_count(text: &str, max_results: usize) -> AppResult<usize> {
    let value: i128 = text.trim().parse().map_err(|_| {
        AppError::invalid_value(format!("count must be a whole number, not '{text}'."))
    })?;
    Ok(usize::try_from(value.max(0))
        .unwrap_or(usize::MAX)
        .min(max_results))
}

/// One page of results.
#[derive(Debug)]
pub struct Page {
    /// How many resources match in all.
    pub total: usize,
    /// The page, rendered and projected.
    pub resources: Vec<Value>,
}

/// Runs a list request against one organisation's resources of one kind.
pub fn run(
    conn: &Connection,
    walks: &mut Walks,
    kind: Kind,
    org: &str,
    base: &str,
    now: OffsetDateTime,
    params: &ListParams,
) -> AppResult<Page> {
    if let Some(filter) = &params.filter {
        muster_scim::filter::validate(filter, kind.schema()).map_err(|error| {
            AppError::bad_request(
                ScimType::InvalidFilter,
                format!("The filter is not valid: {error}."),
            )
        })?;
    }
    let plan = match &params.filter {
        Some(filter) => plan(kind, filter),
        None => Some(Sql::exact("1".to_owned(), Vec::new())),
    };
    let sort_column = match &params.sort_by {
        None => Some("seq"),
        Some(path) => column_key(kind, path)
            .and_then(|key| kind.column(&key))
            .map(|c| c.column),
    };
    let list = ListRun {
        conn,
        kind,
        org,
        base,
        now,
        params,
    };
    match (&plan, sort_column) {
        (Some(sql), Some(column)) if sql.exact => paged::run_sql(&list, walks, sql, column),
        _ => run_scan(&list, plan),
    }
}

/// One list request as it runs: the connection, the organisation's resources of one kind,
/// the base URL and time they are rendered with, and the request's parameters.
struct ListRun<'a> {
    conn: &'a Connection,
    kind: Kind,
    org: &'a str,
    base: &'a str,
    now: OffsetDateTime,
    params: &'a ListParams,
}

impl ListRun<'_> {
    /// The page's rows as the resources the caller asked for.
    fn render(&self, rows: Vec<Row>) -> AppResult<Vec<Value>> {
        let (kind, org, selection) = (self.kind, self.org, &self.params.selection);
        render::page(self.conn, kind, org, self.base, rows, selection, self.now)
    }
}

/// Narrow with whatever SQL the plan has, then decide, sort and page in Rust.
fn run_scan(list: &ListRun<'_>, plan: Option<Sql>) -> AppResult<Page> {
    let (conn, kind, org, params) = (list.conn, list.kind, list.org, list.params);
    let table = kind.table();
    let mut args: Vec<SqlValue> = vec![SqlValue::Text(org.to_owned())];
    let mut where_sql = format!("t.org = ?1 AND {}", params.visible(kind));
    if let Some(plan) = &plan {
        where_sql.push_str(&format!(" AND ({})", plan.text));
        args.extend(plan.params.iter().cloned());
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM {table} t WHERE {where_sql} ORDER BY t.seq",
        row_columns(kind)
    ))?;
    let rows: Vec<Row> = stmt
        .query_map(rusqlite::params_from_iter(&args), row_from_sql)?
        .collect::<Result<_, _>>()?;
    let needs_groups = kind == Kind::User
        && (params.filter.as_ref().is_some_and(mentions_groups)
            || params
                .sort_by
                .as_ref()
                .is_some_and(|p| p.name.eq_ignore_ascii_case("groups")));
    let groups = if needs_groups {
        let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
        store::groups_of_users(conn, org, &ids)?
    } else {
        HashMap::new()
    };
    let schema = kind.schema();
    let mut matched: Vec<(Row, Value)> = Vec::new();
    for row in rows {
        // The evaluator needs the rendered resource; the page is rendered again later
        // (with live state), so this copy is the scan's price.
        let full = render::resource(
            kind,
            list.base,
            row.clone(),
            groups.get(&row.id).map(Vec::as_slice),
            list.now,
        );
        let keep = match &params.filter {
            Some(filter) => muster_scim::filter::matches(filter, &full, schema),
            None => true,
        };
        if keep {
            matched.push((row, full));
        }
    }
    if let Some(path) = &params.sort_by {
        let case_exact = schema.attribute(path).is_some_and(|a| a.case_exact);
        let date = schema
            .attribute(path)
            .is_some_and(|a| a.kind == AttributeType::DateTime);
        let mut keyed: Vec<(Option<SortKey>, (Row, Value))> = matched
            .into_iter()
            .map(|(row, full)| (sort_key(&full, path, case_exact, date), (row, full)))
            .collect();
        keyed.sort_by(|(a, _), (b, _)| compare_keys(a.as_ref(), b.as_ref(), params.descending));
        matched = keyed.into_iter().map(|(_, item)| item).collect();
    } else if params.descending {
        matched.reverse();
    }
    let total = matched.len();
    let offset = params.start_index.saturating_sub(1);
    let page: Vec<Row> = matched
        .into_iter()
        .skip(offset)
        .take(params.count)
        .map(|(row, _)| row)
        .collect();
    let resources = list.render(page)?;
    Ok(Page { total, resources })
}

/// A value to sort by.
#[derive(Debug, PartialEq, PartialOrd)]
enum SortKey {
    Bool(bool),
    Number(f64),
    Text(String),
}

/// The sort value of a resource: the attribute's value, or for a multi-valued attribute
/// its primary value (else its first), per RFC 7644 §3.4.2.3.
fn sort_key(resource: &Value, path: &AttrPath, case_exact: bool, date: bool) -> Option<SortKey> {
    let root = match &path.urn {
        Some(urn) => find_key(resource, urn).unwrap_or(resource),
        None => resource,
    };
    let mut value = find_key(root, &path.name)?;
    if let Value::Array(items) = value {
        value = items
            .iter()
            .find(|item| item.get("primary").and_then(Value::as_bool) == Some(true))
            .or_else(|| items.first())?;
    }
    let sub = path
        .sub_attr
        .as_deref()
        .or(value.is_object().then_some("value"));
    if let Some(sub) = sub {
        value = find_key(value, sub)?;
    }
    match value {
        Value::Bool(b) => Some(SortKey::Bool(*b)),
        Value::Number(n) => n.as_f64().map(SortKey::Number),
        Value::String(s) if date => Some(SortKey::Text(
            normalize_time(s).unwrap_or_else(|| s.clone()),
        )),
        Value::String(s) if case_exact => Some(SortKey::Text(s.clone())),
        Value::String(s) => Some(SortKey::Text(fold(s))),
        _ => None,
    }
}

/// Missing values sort last in either direction.
fn compare_keys(a: Option<&SortKey>, b: Option<&SortKey>, descending: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => {
            let order = a.partial_cmp(b).unwrap_or(Ordering::Equal);
            if descending { order.reverse() } else { order }
        }
    }
}

fn find_key<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    value
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn mentions_groups(filter: &Filter) -> bool {
    match filter {
        Filter::Compare { path, .. } | Filter::Present(path) | Filter::ValuePath { path, .. } => {
            path.name.eq_ignore_ascii_case("groups")
        }
        Filter::And(a, b) | Filter::Or(a, b) => mentions_groups(a) || mentions_groups(b),
        Filter::Not(inner) => mentions_groups(inner),
    }
}

/// A WHERE fragment over table alias `t`, with anonymous `?` placeholders bound in text
/// order after `?1`, the organisation. `exact` means it selects exactly what the filter selects; otherwise it
/// selects a superset that the evaluator must narrow.
#[derive(Debug, Clone)]
struct Sql {
    text: String,
    params: Vec<SqlValue>,
    exact: bool,
}

impl Sql {
    fn exact(text: String, params: Vec<SqlValue>) -> Self {
        Self {
            text,
            params,
            exact: true,
        }
    }
}

/// The lower-cased, URN-free key of a core attribute path (`name.familyname`), or `None`
/// for an extension attribute.
fn column_key(kind: Kind, path: &AttrPath) -> Option<String> {
    if let Some(urn) = &path.urn
        && !urn.eq_ignore_ascii_case(&kind.schema().core.id)
    {
        return None;
    }
    let mut key = path.name.to_ascii_lowercase();
    if let Some(sub) = &path.sub_attr {
        key.push('.');
        key.push_str(&sub.to_ascii_lowercase());
    }
    Some(key)
}

/// Turns as much of a filter as it can into SQL; `None` when nothing of it can be.
fn plan(kind: Kind, filter: &Filter) -> Option<Sql> {
    match filter {
        Filter::Compare { path, op, value } => plan_compare(kind, path, *op, value),
        Filter::Present(path) => plan_present(kind, path),
        Filter::And(a, b) => match (plan(kind, a), plan(kind, b)) {
            (Some(a), Some(b)) => Some(Sql {
                text: format!("({}) AND ({})", a.text, b.text),
                params: a.params.into_iter().chain(b.params).collect(),
                exact: a.exact && b.exact,
            }),
            (Some(one), None) | (None, Some(one)) => Some(Sql {
                exact: false,
                ..one
            }),
            (None, None) => None,
        },
        Filter::Or(a, b) => {
            let (a, b) = (plan(kind, a)?, plan(kind, b)?);
            Some(Sql {
                text: format!("({}) OR ({})", a.text, b.text),
                params: a.params.into_iter().chain(b.params).collect(),
                exact: a.exact && b.exact,
            })
        }
        Filter::Not(inner) => {
            let inner = plan(kind, inner)?;
            // Only an exact inner part can be negated: the complement of a superset is not
            // a superset of the complement.
            inner.exact.then(|| Sql {
                text: format!("NOT coalesce(({}), 0)", inner.text),
                params: inner.params,
                exact: true,
            })
        }
        Filter::ValuePath { .. } => None,
    }
}

/// SQL for a multi-valued attribute mirrored in a side table, if `path` names one.
fn side_table(kind: Kind, path: &AttrPath) -> Option<&'static str> {
    let key = column_key(kind, path)?;
    match (kind, key.as_str()) {
        (Kind::User, "emails" | "emails.value") => {
            Some("EXISTS (SELECT 1 FROM user_emails e WHERE e.user_seq = t.seq AND {})")
        }
        (Kind::Group, "members" | "members.value") => {
            Some("EXISTS (SELECT 1 FROM group_members e WHERE e.group_seq = t.seq AND {})")
        }
        _ => None,
    }
}

fn side_column(kind: Kind) -> (&'static str, bool) {
    match kind {
        Kind::User => ("e.email", true),
        Kind::Group => ("e.member_id", false),
    }
}

fn plan_present(kind: Kind, path: &AttrPath) -> Option<Sql> {
    if let Some(template) = side_table(kind, path) {
        return Some(Sql::exact(template.replace("{}", "1"), Vec::new()));
    }
    let column = kind.column(&column_key(kind, path)?)?;
    Some(Sql::exact(
        format!("t.{0} IS NOT NULL AND t.{0} <> ''", column.column),
        Vec::new(),
    ))
}

fn plan_compare(kind: Kind, path: &AttrPath, op: CompareOp, value: &CompValue) -> Option<Sql> {
    let CompValue::String(literal) = value else {
        return None;
    };
    let (column, folded, multi, template) = match side_table(kind, path) {
        Some(template) => {
            let (column, folded) = side_column(kind);
            (column.to_owned(), folded, true, template)
        }
        None => {
            let column = kind.column(&column_key(kind, path)?)?;
            (format!("t.{}", column.column), column.folded, false, "{}")
        }
    };
    // A multi-valued `ne` means "some value differs", which EXISTS cannot say exactly.
    if multi && op == CompareOp::Ne {
        return None;
    }
    let is_time = column == "t.created" || column == "t.modified";
    let literal = if is_time {
        normalize_time(literal)?
    } else if folded {
        fold(literal)
    } else {
        literal.clone()
    };
    // An empty `ew` literal matches every present value; leave that to the evaluator.
    if op == CompareOp::Ew && literal.is_empty() {
        return None;
    }
    let param = |value: String| ("?", SqlValue::Text(value));
    let (text, params) = match op {
        CompareOp::Eq => {
            let (p, v) = param(literal);
            (format!("{column} = {p}"), vec![v])
        }
        CompareOp::Ne => {
            let (p, v) = param(literal);
            (format!("({column} IS NULL OR {column} <> {p})"), vec![v])
        }
        CompareOp::Co => {
            let (p, v) = param(literal);
            (format!("instr({column}, {p}) > 0"), vec![v])
        }
        CompareOp::Sw => {
            let upper = prefix_upper_bound(&literal)?;
            let (p, v) = param(literal);
            let (q, w) = param(upper);
            (format!("{column} >= {p} AND {column} < {q}"), vec![v, w])
        }
        CompareOp::Ew => {
            let (p, v) = param(literal);
            (
                format!("substr({column}, -length({p})) = {p}"),
                vec![v.clone(), v],
            )
        }
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
            let sign = match op {
                CompareOp::Gt => ">",
                CompareOp::Ge => ">=",
                CompareOp::Lt => "<",
                _ => "<=",
            };
            let (p, v) = param(literal);
            (format!("{column} {sign} {p}"), vec![v])
        }
    };
    Some(Sql::exact(template.replace("{}", &text), params))
}

/// The smallest string greater than every string starting with `prefix`: the prefix with
/// its last character bumped. `None` when it cannot be bumped (then the evaluator decides).
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let last = prefix.chars().last()?;
    let mut next = u32::from(last) + 1;
    if (0xD800..0xE000).contains(&next) {
        next = 0xE000;
    }
    let bumped = char::from_u32(next)?;
    let mut upper: String = prefix[..prefix.len() - last.len_utf8()].to_owned();
    upper.push(bumped);
    Some(upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_bound_bumps_the_last_character() {
        assert_eq!(prefix_upper_bound("sm").as_deref(), Some("sn"));
        assert_eq!(prefix_upper_bound("é").as_deref(), Some("ê"));
        assert_eq!(
            prefix_upper_bound(""),
            None,
            "an empty prefix has no upper bound"
        );
    }

    #[test]
    fn count_and_start_index_are_clamped_not_refused() {
        assert_eq!(parse_count("-5", 1000).ok(), Some(0));
        assert_eq!(
            parse_count("99999999999999999999999", 1000).ok(),
            Some(1000)
        );
        assert_eq!(parse_start_index("0").ok(), Some(1));
        assert_eq!(
            parse_start_index("99999999999999999999999").ok(),
            Some(usize::MAX)
        );
        assert!(
            parse_count("ten", 1000).is_err(),
            "a non-number count is a client error"
        );
    }

    #[test]
    fn an_indexed_filter_is_planned_exactly() {
        let filter = parse_filter(r#"name.familyName sw "Sm" and userName pr"#).unwrap();
        let sql = plan(Kind::User, &filter).unwrap();
        assert!(sql.exact, "both parts have columns, so SQL alone decides");
        assert_eq!(
            sql.params,
            vec![SqlValue::Text("sm".into()), SqlValue::Text("sn".into())]
        );
    }

    #[test]
    fn an_extension_filter_falls_back_to_the_evaluator() {
        let filter = parse_filter(
            r#"userName sw "a" and urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Ops""#,
        )
        .unwrap();
        let sql = plan(Kind::User, &filter).unwrap();
        assert!(!sql.exact, "the extension part needs the evaluator");
        let or = parse_filter(r#"userName sw "a" or title eq "x""#).unwrap();
        assert!(
            plan(Kind::User, &or).is_none(),
            "half an OR cannot narrow anything"
        );
    }
}
