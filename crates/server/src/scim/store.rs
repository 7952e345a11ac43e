//! SQL for stored resources. Every function here is synchronous and runs inside a
//! [`crate::db::Db`] closure, so a handler's reads and writes share one transaction.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::kind::{Kind, fold};
use crate::error::{AppError, AppResult};

/// A stored resource as read from its table.
#[derive(Debug, Clone)]
pub struct Row {
    /// Row id: creation order, the default sort.
    pub seq: i64,
    /// The SCIM id.
    pub id: String,
    /// Canonical JSON without id, meta, groups and password.
    pub doc: Value,
    /// Incremented on every change; the ETag is `W/"version"`.
    pub version: i64,
    /// `meta.created`, RFC 3339 UTC with milliseconds.
    pub created: String,
    /// `meta.lastModified`, same format.
    pub modified: String,
    /// Lifecycle state (users only).
    pub state: Option<crate::lifecycle::UserState>,
}

impl Row {
    /// The weak ETag of this version.
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }
}

/// The columns [`Row`] reads, in order, from a table aliased `t`.
pub fn row_columns(kind: Kind) -> String {
    let state = match kind {
        Kind::User => crate::lifecycle::STATE_COLUMNS,
        Kind::Group => "NULL, NULL, NULL, NULL, NULL, NULL",
    };
    format!("t.seq, t.id, t.doc, t.version, t.created, t.modified, {state}")
}

/// Builds a [`Row`] from a query that selected [`row_columns`] first.
pub fn row_from_sql(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let doc: String = row.get(2)?;
    let doc = serde_json::from_str(&doc).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(error))
    })?;
    Ok(Row {
        seq: row.get(0)?,
        id: row.get(1)?,
        doc,
        version: row.get(3)?,
        created: row.get(4)?,
        modified: row.get(5)?,
        state: match row.get::<_, Option<String>>(6)? {
            Some(_) => Some(crate::lifecycle::UserState::from_row(row, 6)?),
            None => None,
        },
    })
}

/// Formats a time the way every stored timestamp is written: UTC, milliseconds, `Z`.
/// One fixed width means text order is time order, so SQL can compare them as strings.
pub fn format_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let millis = at.millisecond();
    let at = at.replace_millisecond(millis).unwrap_or(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        millis
    )
}

/// Normalises an RFC 3339 text to [`format_time`]'s form; `None` if it is not one.
pub fn normalize_time(text: &str) -> Option<String> {
    OffsetDateTime::parse(text, &Rfc3339).ok().map(format_time)
}

/// Reads one resource.
pub fn get(conn: &Connection, kind: Kind, org: &str, id: &str) -> AppResult<Option<Row>> {
    let sql = format!(
        "SELECT {} FROM {} t WHERE t.org = ?1 AND t.id = ?2 AND {}",
        row_columns(kind),
        kind.table(),
        kind.visible()
    );
    Ok(conn
        .query_row(&sql, params![org, id], row_from_sql)
        .optional()?)
}

/// Reads one resource, soft-deleted users included (for system admins, who can restore
/// them).
pub fn get_including_deleted(
    conn: &Connection,
    kind: Kind,
    org: &str,
    id: &str,
) -> AppResult<Option<Row>> {
    let sql = format!(
        "SELECT {} FROM {} t WHERE t.org = ?1 AND t.id = ?2",
        row_columns(kind),
        kind.table()
    );
    Ok(conn
        .query_row(&sql, params![org, id], row_from_sql)
        .optional()?)
}

/// Reads one resource or answers 404.
pub fn get_or_404(conn: &Connection, kind: Kind, org: &str, id: &str) -> AppResult<Row> {
    get(conn, kind, org, id)?
        .ok_or_else(|| AppError::not_found(format!("There is no {} with id '{id}'.", kind.name())))
}

/// What a write changes besides the document.
#[derive(Debug, Clone, Default)]
pub enum PasswordChange {
    /// Leave the stored password as it is.
    #[default]
    Keep,
    /// Store this argon2id hash.
    Set(String),
}

/// Stores a new resource with a fresh id and returns it.
pub fn insert(
    tx: &Transaction<'_>,
    kind: Kind,
    org: &str,
    doc: &Value,
    password: PasswordChange,
    now: OffsetDateTime,
) -> AppResult<Row> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = format_time(now);
    check_unique(tx, kind, org, doc, None)?;
    let cols = IndexedValues::of(kind, doc);
    let text = doc.to_string();
    let hash = match password {
        PasswordChange::Set(hash) => Some(hash),
        PasswordChange::Keep => None,
    };
    let seq = match kind {
        Kind::User => {
            tx.execute(
                "INSERT INTO users (org, id, doc, version, created, modified, user_name, \
                 external_id, family_name, given_name, display_name, role, password_hash, \
                 extensions) VALUES (?1, ?2, ?3, 1, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    org,
                    id,
                    text,
                    now,
                    cols.user_name,
                    cols.external_id,
                    cols.family_name,
                    cols.given_name,
                    cols.display_name,
                    cols.role,
                    hash,
                    cols.extensions
                ],
            )?;
            tx.last_insert_rowid()
        }
        Kind::Group => {
            tx.execute(
                "INSERT INTO groups (org, id, doc, version, created, modified, display_name, \
                 external_id) VALUES (?1, ?2, ?3, 1, ?4, ?4, ?5, ?6)",
                params![org, id, text, now, cols.display_name, cols.external_id],
            )?;
            tx.last_insert_rowid()
        }
    };
    write_side_tables(tx, kind, org, seq, doc)?;
    Ok(Row {
        seq,
        id,
        doc: doc.clone(),
        version: 1,
        created: now.clone(),
        modified: now,
        state: (kind == Kind::User).then(crate::lifecycle::UserState::default),
    })
}

/// Replaces a stored resource's document, bumping its version.
pub fn update(
    tx: &Transaction<'_>,
    kind: Kind,
    org: &str,
    old: &Row,
    doc: &Value,
    password: PasswordChange,
    now: OffsetDateTime,
) -> AppResult<Row> {
    check_unique(tx, kind, org, doc, Some(old.seq))?;
    let now = format_time(now);
    let cols = IndexedValues::of(kind, doc);
    let text = doc.to_string();
    match kind {
        Kind::User => {
            tx.execute(
                "UPDATE users SET doc = ?2, version = version + 1, modified = ?3, user_name = ?4, \
                 external_id = ?5, family_name = ?6, given_name = ?7, display_name = ?8, \
                 role = ?9, extensions = ?10 WHERE seq = ?1",
                params![
                    old.seq,
                    text,
                    now,
                    cols.user_name,
                    cols.external_id,
                    cols.family_name,
                    cols.given_name,
                    cols.display_name,
                    cols.role,
                    cols.extensions
                ],
            )?;
            if let PasswordChange::Set(hash) = password {
                tx.execute(
                    "UPDATE users SET password_hash = ?2 WHERE seq = ?1",
                    params![old.seq, hash],
                )?;
            }
        }
        Kind::Group => {
            tx.execute(
                "UPDATE groups SET doc = ?2, version = version + 1, modified = ?3, \
                 display_name = ?4, external_id = ?5 WHERE seq = ?1",
                params![old.seq, text, now, cols.display_name, cols.external_id],
            )?;
        }
    }
    write_side_tables(tx, kind, org, old.seq, doc)?;
    Ok(Row {
        seq: old.seq,
        id: old.id.clone(),
        doc: doc.clone(),
        version: old.version + 1,
        created: old.created.clone(),
        modified: now,
        state: old.state.clone(),
    })
}

/// Deletes a resource and every reference to it from groups. `false` if it did not exist.
pub fn delete(
    tx: &Transaction<'_>,
    kind: Kind,
    org: &str,
    id: &str,
    now: OffsetDateTime,
) -> AppResult<bool> {
    let Some(row) = get(tx, kind, org, id)? else {
        return Ok(false);
    };
    remove_from_groups(tx, org, id, now)?;
    tx.execute(
        &format!("DELETE FROM {} WHERE seq = ?1", kind.table()),
        params![row.seq],
    )?;
    Ok(true)
}

/// Takes a member out of every group that lists it, as a change to each group.
pub fn remove_from_groups(
    tx: &Transaction<'_>,
    org: &str,
    member_id: &str,
    now: OffsetDateTime,
) -> AppResult<()> {
    let groups: Vec<String> = {
        let mut stmt = tx.prepare(
            "SELECT g.id FROM group_members m JOIN groups g ON g.seq = m.group_seq \
             WHERE m.org = ?1 AND m.member_id = ?2",
        )?;
        stmt.query_map(params![org, member_id], |row| row.get(0))?
            .collect::<Result<_, _>>()?
    };
    for group_id in groups {
        let Some(group) = get(tx, Kind::Group, org, &group_id)? else {
            continue;
        };
        let mut doc = group.doc.clone();
        if let Value::Object(object) = &mut doc
            && let Some(Value::Array(members)) = object.get_mut("members")
        {
            members.retain(|m| m.get("value").and_then(Value::as_str) != Some(member_id));
            if members.is_empty() {
                object.remove("members");
            }
        }
        update(
            tx,
            Kind::Group,
            org,
            &group,
            &doc,
            PasswordChange::Keep,
            now,
        )?;
    }
    Ok(())
}

/// A user's `extensions` column: which of the user schema's extensions the document has
/// (bit `i` for the `i`th, enterprise then shop, as `schemas` lists them), so that a page
/// of ids names each user's schemas without reading the document. Filled for the users
/// stored before the column (an extension present: an object that is not empty).
pub const EXTENSIONS_SCHEMA: &str = r#"
ALTER TABLE users ADD COLUMN extensions INTEGER NOT NULL DEFAULT 0;
UPDATE users SET extensions =
    ifnull(json_type(doc, '$."urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"') = 'object'
        AND json_extract(doc, '$."urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"') <> '{}', 0)
    | (ifnull(json_type(doc, '$."urn:muster:params:scim:schemas:extension:shop:2.0:User"') = 'object'
        AND json_extract(doc, '$."urn:muster:params:scim:schemas:extension:shop:2.0:User"') <> '{}', 0) << 1);
"#;

/// Which of `kind`'s schema extensions `doc` has, as the `extensions` column keeps it.
pub fn extensions_of(kind: Kind, doc: &Value) -> i64 {
    let present = |urn: &str| {
        doc.get(urn)
            .and_then(Value::as_object)
            .is_some_and(|o| !o.is_empty())
    };
    kind.schema()
        .extensions
        .iter()
        .enumerate()
        .filter(|(_, (extension, _))| present(&extension.id))
        .fold(0, |bits, (index, _)| bits | 1 << index)
}

/// The values a resource's indexed columns hold.
#[derive(Debug, Default)]
struct IndexedValues {
    user_name: Option<String>,
    external_id: Option<String>,
    family_name: Option<String>,
    given_name: Option<String>,
    display_name: Option<String>,
    role: Option<String>,
    /// See [`extensions_of`].
    extensions: i64,
}

impl IndexedValues {
    fn of(kind: Kind, doc: &Value) -> Self {
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
        let folded = |value: Option<&Value>| value.and_then(Value::as_str).map(fold);
        let name = doc.get("name");
        let shop = doc.get(muster_scim::urn::SHOP_USER);
        match kind {
            Kind::User => Self {
                user_name: folded(doc.get("userName")),
                external_id: text(doc.get("externalId")),
                family_name: folded(name.and_then(|name| name.get("familyName"))),
                given_name: folded(name.and_then(|name| name.get("givenName"))),
                display_name: folded(doc.get("displayName")),
                role: folded(shop.and_then(|shop| shop.get("role"))),
                extensions: extensions_of(kind, doc),
            },
            Kind::Group => Self {
                external_id: text(doc.get("externalId")),
                display_name: folded(doc.get("displayName")),
                ..Self::default()
            },
        }
    }
}

/// Every folded email value of a user document, each once.
pub fn emails_of(doc: &Value) -> Vec<String> {
    let mut emails: Vec<String> = doc
        .get("emails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|email| email.get("value").and_then(Value::as_str))
        .map(fold)
        .collect();
    emails.sort();
    emails.dedup();
    emails
}

/// Refuses a document whose userName or emails another resource of the org already has.
fn check_unique(
    tx: &Transaction<'_>,
    kind: Kind,
    org: &str,
    doc: &Value,
    seq: Option<i64>,
) -> AppResult<()> {
    if kind != Kind::User {
        return Ok(());
    }
    let seq = seq.unwrap_or(-1);
    if let Some(user_name) = doc.get("userName").and_then(Value::as_str) {
        let taken: Option<i64> = tx
            .query_row(
                "SELECT seq FROM users WHERE org = ?1 AND user_name = ?2 AND seq <> ?3",
                params![org, fold(user_name), seq],
                |row| row.get(0),
            )
            .optional()?;
        if taken.is_some() {
            return Err(AppError::taken(
                "userName",
                format!("The userName '{user_name}' is already taken in this organisation."),
            ));
        }
    }
    for email in emails_of(doc) {
        let taken: Option<i64> = tx
            .query_row(
                "SELECT user_seq FROM user_emails WHERE org = ?1 AND email = ?2 AND user_seq <> ?3",
                params![org, email, seq],
                |row| row.get(0),
            )
            .optional()?;
        if taken.is_some() {
            return Err(AppError::taken(
                "emails",
                format!(
                    "The email {email} already belongs to another account in this organisation. \
                     Each account needs its own email; for a person with two roles, such as \
                     customer and contractor, use an address like {}.",
                    plus_address(&email, "contractor")
                ),
            ));
        }
    }
    Ok(())
}

/// `name@domain` → `name+tag@domain`: the suggestion for a second account of one person.
pub fn plus_address(email: &str, tag: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let local = local.split('+').next().unwrap_or(local);
            format!("{local}+{tag}@{domain}")
        }
        None => format!("{email}+{tag}"),
    }
}

/// Rewrites the tables derived from a document: a user's emails, a group's members.
fn write_side_tables(
    tx: &Transaction<'_>,
    kind: Kind,
    org: &str,
    seq: i64,
    doc: &Value,
) -> AppResult<()> {
    match kind {
        Kind::User => {
            tx.execute("DELETE FROM user_emails WHERE user_seq = ?1", params![seq])?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO user_emails (org, user_seq, email) VALUES (?1, ?2, ?3)",
            )?;
            for email in emails_of(doc) {
                insert.execute(params![org, seq, email])?;
            }
        }
        Kind::Group => {
            tx.execute(
                "DELETE FROM group_members WHERE group_seq = ?1",
                params![seq],
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO group_members (org, group_seq, member_id, member_type) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for member in doc
                .get("members")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(id) = member.get("value").and_then(Value::as_str) else {
                    continue;
                };
                let kind = member.get("type").and_then(Value::as_str).unwrap_or("User");
                insert.execute(params![org, seq, id, kind])?;
            }
        }
    }
    Ok(())
}

/// Checks that every member of a group document names a user or group of this org, and
/// fills in a missing `type`.
pub fn resolve_members(conn: &Connection, org: &str, doc: &mut Value) -> AppResult<()> {
    let Some(Value::Array(members)) = doc.get_mut("members") else {
        return Ok(());
    };
    for member in members {
        let Some(object) = member.as_object_mut() else {
            return Err(AppError::invalid_value(
                "Each member must be an object with a 'value'.",
            ));
        };
        let Some(id) = object
            .get("value")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Err(AppError::invalid_value(
                "Each member needs a 'value': the member's id.",
            ));
        };
        let found = if get(conn, Kind::User, org, &id)?.is_some() {
            "User"
        } else if get(conn, Kind::Group, org, &id)?.is_some() {
            "Group"
        } else {
            return Err(AppError::invalid_value(format!(
                "The member '{id}' is neither a user nor a group of this organisation."
            )));
        };
        object
            .entry("type")
            .or_insert_with(|| Value::String(found.to_owned()));
    }
    Ok(())
}

/// The `groups` attribute of each listed user: the groups that name it as a member.
pub fn groups_of_users(
    conn: &Connection,
    org: &str,
    user_ids: &[&str],
) -> AppResult<std::collections::HashMap<String, Vec<(String, String)>>> {
    let mut out: std::collections::HashMap<String, Vec<(String, String)>> = Default::default();
    if user_ids.is_empty() {
        return Ok(out);
    }
    // One query for the whole page: the ids travel as a JSON array.
    let ids = serde_json::to_string(user_ids).map_err(AppError::internal)?;
    let mut stmt = conn.prepare_cached(
        "SELECT m.member_id, g.id, json_extract(g.doc, '$.displayName') FROM group_members m \
         JOIN groups g ON g.seq = m.group_seq \
         WHERE m.org = ?1 AND m.member_id IN (SELECT value FROM json_each(?2))",
    )?;
    let rows = stmt.query_map(params![org, ids], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, Option<String>>(2)?,
        ))
    })?;
    for row in rows {
        let (member, group, display) = row?;
        out.entry(member)
            .or_default()
            .push((group, display.unwrap_or_default()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;
    use serde_json::json;

    use super::*;

    #[test]
    fn the_extensions_column_is_filled_as_writes_fill_it() {
        let enterprise = muster_scim::urn::ENTERPRISE_USER;
        let shop = muster_scim::urn::SHOP_USER;
        let docs = [
            json!({"userName": "a"}),
            json!({"userName": "b", enterprise: {"department": "Ops"}}),
            json!({"userName": "c", shop: {"role": "admin"}}),
            json!({"userName": "d", enterprise: {"department": "Ops"}, shop: {"role": "admin"}}),
            json!({"userName": "e", enterprise: {}, shop: null}),
            json!({"userName": "f", shop: "admin"}),
        ];
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE users (seq INTEGER PRIMARY KEY, doc TEXT NOT NULL)")
            .unwrap();
        for doc in &docs {
            conn.execute("INSERT INTO users (doc) VALUES (?1)", [doc.to_string()])
                .unwrap();
        }
        conn.execute_batch(EXTENSIONS_SCHEMA).unwrap();
        let stored: Vec<i64> = conn
            .prepare("SELECT extensions FROM users ORDER BY seq")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let written: Vec<i64> = docs
            .iter()
            .map(|doc| extensions_of(Kind::User, doc))
            .collect();
        assert_eq!(written, [0, 1, 2, 3, 0, 0]);
        assert_eq!(
            stored, written,
            "the migration fills the column as a write would"
        );
        assert_eq!(
            extensions_of(Kind::Group, &docs[3]),
            0,
            "groups have no extensions"
        );
    }
}
