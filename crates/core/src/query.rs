//! List queries: what to ask for ([`ListQuery`] and a typed filter builder, [`attr`]),
//! what comes back ([`Page`], [`Progress`]), and the walk through every page that
//! [`Users::list_all`](crate::users::Users::list_all) and
//! [`Groups::list_all`](crate::groups::Groups::list_all) share.
//!
//! Filters are muster-scim [`Filter`] trees and are printed by muster-scim's `Display`, so
//! what is sent is always canonical, correctly quoted SCIM filter text (this example is
//! checked by the unit test `the_builder_prints_canonical_filters`):
//!
//! ```
//! use muster_core::query::{and, attr, not};
//! let filter = and(
//!     attr("name.familyName").sw("Sm"),
//!     not(attr("active").eq(false)),
//! );
//! assert_eq!(filter.to_string(), r#"name.familyName sw "Sm" and not (active eq false)"#);
//! ```

use muster_scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use muster_scim::message::{SearchRequest, SortOrder};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod pages;

pub(crate) use pages::{fetch_all, fetch_page, for_each_page, search_page};

/// The page size [`list_all`](crate::users::Users::list_all) asks for when the query
/// names none.
pub const DEFAULT_PAGE_SIZE: u64 = 1000;

/// A list query (RFC 7644 §3.4.2): filter, sort, paging and attribute selection.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Which resources; `None` for all.
    pub filter: Option<Filter>,
    /// Attribute path to sort by, e.g. `name.familyName`.
    pub sort_by: Option<String>,
    /// Largest first (only meaningful with `sort_by`).
    pub descending: bool,
    /// 1-based index of the first result (0 is read as 1).
    pub start_index: u64,
    /// Results per page; `None` leaves it to the server (one page) or to
    /// [`DEFAULT_PAGE_SIZE`] (a walk through every page).
    pub count: Option<u64>,
    /// Return only these attributes (plus those always returned, such as `id`).
    pub attributes: Vec<String>,
    /// Leave these attributes out.
    pub excluded_attributes: Vec<String>,
    /// Soft-deleted users too: a Muster server's own parameter (`includeDeleted`), for
    /// system admins, where its `/actions` document offers it.
    pub include_deleted: bool,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            filter: None,
            sort_by: None,
            descending: false,
            start_index: 1,
            count: None,
            attributes: Vec::new(),
            excluded_attributes: Vec::new(),
            include_deleted: false,
        }
    }
}

impl ListQuery {
    /// Every resource matching `filter`.
    pub fn filtered(filter: Filter) -> Self {
        Self {
            filter: Some(filter),
            ..Self::default()
        }
    }

    /// The same query sorted by `path`, ascending unless `descending`.
    pub fn sorted_by(mut self, path: impl Into<String>, descending: bool) -> Self {
        self.sort_by = Some(path.into());
        self.descending = descending;
        self
    }

    /// The same query, `count` per page.
    pub fn with_count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }

    /// The same query, with soft-deleted users too when `yes` (see
    /// [`ListQuery::include_deleted`]).
    pub fn including_deleted(mut self, yes: bool) -> Self {
        self.include_deleted = yes;
        self
    }

    /// The query-string parameters of `GET /Users` for this query.
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if let Some(filter) = &self.filter {
            params.push(("filter", filter.to_string()));
        }
        if let Some(sort_by) = &self.sort_by {
            params.push(("sortBy", sort_by.clone()));
            if self.descending {
                params.push(("sortOrder", SortOrder::Descending.as_str().to_owned()));
            }
        }
        params.push(("startIndex", self.start_index.max(1).to_string()));
        if let Some(count) = self.count {
            params.push(("count", count.to_string()));
        }
        if !self.attributes.is_empty() {
            params.push(("attributes", self.attributes.join(",")));
        }
        if !self.excluded_attributes.is_empty() {
            params.push(("excludedAttributes", self.excluded_attributes.join(",")));
        }
        if self.include_deleted {
            params.push(("includeDeleted", "true".to_owned()));
        }
        params
    }

    /// The body of `POST /.search` for this query.
    pub fn to_search_request(&self) -> SearchRequest {
        SearchRequest {
            attributes: self.attributes.clone(),
            excluded_attributes: self.excluded_attributes.clone(),
            filter: self.filter.as_ref().map(ToString::to_string),
            sort_by: self.sort_by.clone(),
            sort_order: (self.sort_by.is_some() && self.descending)
                .then_some(SortOrder::Descending),
            start_index: Some(self.start_index.max(1)),
            count: self.count,
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The resources of this page.
    pub resources: Vec<T>,
    /// How many match over all pages, when the server said.
    pub total: Option<u64>,
    /// 1-based index of this page's first resource (the server's word, else what was
    /// asked).
    pub start_index: u64,
    /// How many resources this page holds, counting those left out as unreadable.
    pub items_per_page: u64,
    /// How many of its resources could not be kept (see `Listed::from_listed_text`) and
    /// are left out.
    pub unreadable: u64,
}

/// How far a walk through every page has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Distinct resources fetched so far.
    pub fetched: u64,
    /// How many the server says match, when it says.
    pub total: Option<u64>,
    /// Resources left out so far because they could not be read at all.
    pub unreadable: u64,
}

// ---------------------------------------------------------------------------------------
// Filter builder

/// An attribute to compare: the start of a filter, e.g. `attr("userName").eq("ann")`.
///
/// `path` is `[URN ":"] name ["." subAttr]`, as in SCIM filters:
/// `name.familyName`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`.
pub fn attr(path: &str) -> Attr {
    Attr(split_path(path.trim()))
}

/// An attribute path on its way into a filter; see [`attr`].
#[derive(Debug, Clone)]
pub struct Attr(AttrPath);

impl From<AttrPath> for Attr {
    fn from(path: AttrPath) -> Self {
        Self(path)
    }
}

impl Attr {
    /// The attribute path.
    pub fn path(&self) -> &AttrPath {
        &self.0
    }

    fn compare(self, op: CompareOp, value: impl FilterValue) -> Filter {
        Filter::Compare {
            path: self.0,
            op,
            value: value.into_comp_value(),
        }
    }

    /// `eq`: equal.
    pub fn eq(self, value: impl FilterValue) -> Filter {
        self.compare(CompareOp::Eq, value)
    }

    /// `ne`: not equal.
    pub fn ne(self, value: impl FilterValue) -> Filter {
        self.compare(CompareOp::Ne, value)
    }

    /// `co`: contains.
    pub fn co(self, value: impl FilterValue) -> Filter {
        self.compare(CompareOp::Co, value)
    }

    /// `sw`: starts with.
    pub fn sw(self, value: impl FilterValue) -> Filter {
        self.compare(CompareOp::Sw, value)
    }

    /// `ew`: ends with.
    pub fn ew(self, value: impl FilterValue) -> Filter {
        self.compare(CompareOp::Ew, value)
    }

    /// `gt`: greater than (later, for dates).
    pub fn gt(self, value: impl FilterValue) -> Filter {
        self.compare(CompareOp::Gt, value)
    }

    /// `ge`: greater than or equal.
    pub fn ge(self, value: impl FilterValue) -> Filter {
        self.compare(CompareOp::Ge, value)
    }

    /// `lt`: less than (earlier, for dates).
    pub fn lt(self, value: impl FilterValue) -> Filter {
        self.compare(CompareOp::Lt, value)
    }

    /// `le`: less than or equal.
    pub fn le(self, value: impl FilterValue) -> Filter {
        self.compare(CompareOp::Le, value)
    }

    /// `pr`: present (has a non-empty value).
    pub fn pr(self) -> Filter {
        Filter::Present(self.0)
    }

    /// A value filter on a multi-valued attribute: `emails[type eq "work"]`, with paths in
    /// `filter` relative to one value (`attr("emails").matching(attr("type").eq("work"))`).
    pub fn matching(self, filter: Filter) -> Filter {
        Filter::ValuePath {
            path: self.0,
            filter: Box::new(filter),
        }
    }
}

/// `a and b`.
pub fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

/// `a or b`.
pub fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

/// `not (a)`.
pub fn not(a: Filter) -> Filter {
    Filter::Not(Box::new(a))
}

/// Every filter joined with `and`; `None` when there are none.
pub fn all(filters: impl IntoIterator<Item = Filter>) -> Option<Filter> {
    filters.into_iter().reduce(and)
}

/// Every filter joined with `or`; `None` when there are none.
pub fn any(filters: impl IntoIterator<Item = Filter>) -> Option<Filter> {
    filters.into_iter().reduce(or)
}

/// A value a filter compares with: strings, booleans, numbers, dates (written in
/// RFC 3339, UTC), or a muster-scim [`CompValue`] as it is.
pub trait FilterValue {
    /// The filter literal.
    fn into_comp_value(self) -> CompValue;
}

impl FilterValue for CompValue {
    fn into_comp_value(self) -> CompValue {
        self
    }
}

impl FilterValue for &str {
    fn into_comp_value(self) -> CompValue {
        CompValue::String(self.to_owned())
    }
}

impl FilterValue for String {
    fn into_comp_value(self) -> CompValue {
        CompValue::String(self)
    }
}

impl FilterValue for &String {
    fn into_comp_value(self) -> CompValue {
        CompValue::String(self.clone())
    }
}

impl FilterValue for bool {
    fn into_comp_value(self) -> CompValue {
        CompValue::Bool(self)
    }
}

macro_rules! integer_values {
    ($($t:ty),*) => {$(
        impl FilterValue for $t {
            fn into_comp_value(self) -> CompValue {
                CompValue::Number(self.into())
            }
        }
    )*};
}
integer_values!(i32, i64, u32, u64);

impl FilterValue for f64 {
    /// A finite number; NaN and infinities have no JSON form and become `null`.
    fn into_comp_value(self) -> CompValue {
        serde_json::Number::from_f64(self).map_or(CompValue::Null, CompValue::Number)
    }
}

impl FilterValue for OffsetDateTime {
    /// RFC 3339 in UTC, e.g. `2030-01-01T09:00:00Z`.
    fn into_comp_value(self) -> CompValue {
        let utc = self.to_offset(time::UtcOffset::UTC);
        CompValue::String(utc.format(&Rfc3339).unwrap_or_else(|_| utc.to_string()))
    }
}

/// Splits `[URN ":"] name ["." subAttr]`: a URN prefix ends at the last `:`.
fn split_path(path: &str) -> AttrPath {
    let (urn, rest) = match path.rsplit_once(':') {
        Some((urn, rest)) if urn.len() >= 4 && urn[..4].eq_ignore_ascii_case("urn:") => {
            (Some(urn.to_owned()), rest)
        }
        _ => (None, path),
    };
    let (name, sub_attr) = match rest.split_once('.') {
        Some((name, sub)) => (name.to_owned(), Some(sub.to_owned())),
        None => (rest.to_owned(), None),
    };
    AttrPath {
        urn,
        name,
        sub_attr,
    }
}

#[cfg(test)]
mod tests;
