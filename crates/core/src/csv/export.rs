//! Exporting users as CSV: a header row of column names, then one row per user, streamed
//! to any `Write` (a file chosen in a save dialog, stdout).
//!
//! [`export_view`] writes what a search view of the offline copy shows (its filters and
//! sort, every matching row, not just the window on screen), so it works offline;
//! [`write_users`] writes any list of users in the order given.

use std::borrow::Borrow;
use std::io::Write;
use std::path::Path;

use muster_scim::user::User;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Writer;
use super::columns::Column;
use crate::error::Error;
use crate::search::{Index, SearchQuery};

/// How an export is written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct ExportOptions {
    /// Start with a UTF-8 byte-order mark, so that Excel reads accents right.
    pub bom: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ExportSummary {
    /// Users written (rows after the header).
    pub rows: u32,
    /// The columns, in order.
    pub columns: Vec<String>,
}

/// Writes a header row naming `columns`, then one row per user of `users`, in order;
/// what depends on time (an invitation pending or expired) is as of `now`.
///
/// # Errors
///
/// [`Error::Storage`] when `out` refuses a write.
pub fn write_users<W: Write, U: Borrow<User>>(
    out: W,
    users: impl IntoIterator<Item = U>,
    columns: &[Column],
    options: &ExportOptions,
    now: OffsetDateTime,
) -> Result<ExportSummary, Error> {
    let failed = |error: std::io::Error| Error::Storage {
        message: format!("The export could not be written: {error}."),
    };
    let mut csv = if options.bom {
        Writer::with_bom(out).map_err(failed)?
    } else {
        Writer::new(out)
    };
    csv.record(columns.iter().map(|c| c.name)).map_err(failed)?;
    let mut rows: u32 = 0;
    let mut cells: Vec<String> = Vec::with_capacity(columns.len());
    for user in users {
        cells.clear();
        let user = user.borrow();
        cells.extend(columns.iter().map(|c| c.of(user, now)));
        csv.record(&cells).map_err(failed)?;
        rows = rows.saturating_add(1);
    }
    csv.finish().map_err(failed)?;
    Ok(ExportSummary {
        rows,
        columns: columns.iter().map(|c| c.name.to_owned()).collect(),
    })
}

/// Writes every user matching `query`, in the query's sort order (its window, `offset`
/// and `limit`, is ignored: an export holds every matching row), `user` giving the user
/// of each row, read one at a time. `index` must be the index built from those users; `now` anchors [`SearchQuery::no_sign_in_for_days`] and
/// the columns that depend on time.
///
/// # Errors
///
/// [`Error::Storage`] when `out` refuses a write.
pub fn export_view<W: Write, U: Borrow<User>>(
    out: W,
    user: impl Fn(usize) -> Option<U>,
    index: &Index,
    query: &SearchQuery,
    columns: &[Column],
    options: &ExportOptions,
    now: OffsetDateTime,
) -> Result<ExportSummary, Error> {
    let every = query.every_match();
    let rows = index.search(&every, now).rows;
    write_users(
        out,
        rows.iter().filter_map(|&row| user(row)),
        columns,
        options,
        now,
    )
}

/// Creates (or truncates) a file only its owner can read, for an export or a report: they
/// hold personal data.
///
/// # Errors
///
/// [`Error::Storage`] when it cannot be created.
pub fn create_private(path: &Path) -> Result<std::fs::File, Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|error| Error::Storage {
        message: format!("Cannot create {}: {error}.", path.display()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::csv::columns;
    use crate::search::SortKey;
    use muster_scim::user::{Licence, MultiValue, Name, ShopUser};

    fn person(user_name: &str, given: &str, licence: &str) -> User {
        User {
            name: Some(Name::new(given, "Lee")),
            display_name: Some(format!("{given} Lee")),
            emails: vec![MultiValue::new(format!("{user_name}@x.test"))],
            shop: Some(ShopUser {
                licence: Some(Licence::parse(licence)),
                ..ShopUser::default()
            }),
            ..User::new(user_name)
        }
    }

    #[test]
    fn a_view_exports_every_matching_row_in_its_order() {
        let users = vec![
            person("cy", "Cy", "field"),
            person("al", "=Al", "desk"),
            person("bo", "Bo", "field"),
            person("di", "Di", "field"),
        ];
        let index = Index::build(&users);
        let query = SearchQuery {
            licences: vec!["FIELD".into()],
            sort: SortKey::UserName,
            descending: true,
            offset: 1,
            limit: 1,
            ..SearchQuery::default()
        };
        let columns = columns::select(&["userName", "givenName"]).unwrap();
        let mut out = Vec::new();
        let summary = export_view(
            &mut out,
            |row| users.get(row),
            &index,
            &query,
            &columns,
            &ExportOptions::default(),
            OffsetDateTime::now_utc(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "userName,givenName\r\ndi,Di\r\ncy,Cy\r\nbo,Bo\r\n",
            "every field licence holder, largest user name first, whatever the window"
        );
        assert_eq!(summary.rows, 3);
        assert_eq!(summary.columns, ["userName", "givenName"]);

        let mut out = Vec::new();
        let all = SearchQuery {
            sort: SortKey::UserName,
            ..SearchQuery::default()
        };
        let summary = export_view(
            &mut out,
            |row| users.get(row),
            &index,
            &all,
            &columns,
            &ExportOptions { bom: true },
            OffsetDateTime::now_utc(),
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with('\u{FEFF}'), "the BOM when asked for");
        assert!(
            text.contains("\r\nal,'=Al\r\n"),
            "formula-looking names are defused: {text}"
        );
        assert_eq!(summary.rows, 4);
    }

    #[test]
    fn a_refused_write_is_a_storage_error() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let users = [person("al", "Al", "desk")];
        let error = write_users(
            Full,
            &users,
            &columns::select(&["userName"]).unwrap(),
            &ExportOptions::default(),
            OffsetDateTime::now_utc(),
        )
        .unwrap_err();
        assert!(matches!(error, Error::Storage { .. }), "{error:?}");
        assert!(error.to_string().contains("disk full"));
    }
}
