//! The two resource types the server stores, and what differs between them: table,
//! endpoint, schemas, and which attributes have their own indexed column.

use std::sync::LazyLock;

use muster_scim::schema::ResourceSchema;

/// A stored SCIM resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/Users`.
    User,
    /// `/Groups`.
    Group,
}

/// A column that mirrors one attribute for indexed filtering and sorting.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Canonical attribute path, lower-cased: `name.familyname`, `meta.lastmodified`.
    pub path: &'static str,
    /// SQL column name.
    pub column: &'static str,
    /// Whether the column holds the value folded to lower case (the attribute compares
    /// case-insensitively) rather than as written.
    pub folded: bool,
}

impl Column {
    /// An attribute that compares as written, in column `column`.
    const fn exact(path: &'static str, column: &'static str) -> Self {
        Self {
            path,
            column,
            folded: false,
        }
    }

    /// An attribute that compares case-insensitively, folded in column `column`.
    const fn folded(path: &'static str, column: &'static str) -> Self {
        Self {
            path,
            column,
            folded: true,
        }
    }
}

const USER_COLUMNS: &[Column] = &[
    Column::exact("id", "id"),
    Column::folded("username", "user_name"),
    Column::exact("externalid", "external_id"),
    Column::folded("name.familyname", "family_name"),
    Column::folded("name.givenname", "given_name"),
    Column::folded("displayname", "display_name"),
    Column::exact("meta.created", "created"),
    Column::exact("meta.lastmodified", "modified"),
];

const GROUP_COLUMNS: &[Column] = &[
    Column::exact("id", "id"),
    Column::exact("externalid", "external_id"),
    Column::folded("displayname", "display_name"),
    Column::exact("meta.created", "created"),
    Column::exact("meta.lastmodified", "modified"),
];

static USER_SCHEMA: LazyLock<ResourceSchema> = LazyLock::new(ResourceSchema::user);
static GROUP_SCHEMA: LazyLock<ResourceSchema> = LazyLock::new(ResourceSchema::group);

impl Kind {
    /// The resource type name: `User` or `Group`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    /// The endpoint under the SCIM base URL: `Users` or `Groups`.
    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    /// The SQL table.
    pub fn table(self) -> &'static str {
        match self {
            Kind::User => "users",
            Kind::Group => "groups",
        }
    }

    /// Core schema and extensions.
    pub fn schema(self) -> &'static ResourceSchema {
        match self {
            Kind::User => &USER_SCHEMA,
            Kind::Group => &GROUP_SCHEMA,
        }
    }

    /// The SQL condition (over alias `t`) for rows SCIM can see: soft-deleted users are
    /// invisible until restored.
    pub fn visible(self) -> &'static str {
        match self {
            Kind::User => "t.status <> 'deleted'",
            Kind::Group => "1",
        }
    }

    /// Indexed columns.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::User => USER_COLUMNS,
            Kind::Group => GROUP_COLUMNS,
        }
    }

    /// The column mirroring an attribute path (given lower-cased, URN-free).
    pub fn column(self, path: &str) -> Option<&'static Column> {
        self.columns().iter().find(|column| column.path == path)
    }
}

/// SCIM's case-insensitive comparison, as stored in folded columns.
pub fn fold(value: &str) -> String {
    value.to_lowercase()
}
