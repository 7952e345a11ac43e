//! Filter syntax tree.

/// An attribute path: `[URN ":"] name ["." subAttr]`, e.g. `name.familyName` or
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`.
///
/// Names keep the case they were written in; SCIM attribute names are case-insensitive,
/// so compare them with `eq_ignore_ascii_case`.
///
/// A bare schema URN such as `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`
/// parses as `urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0"`,
/// `name = "User"`: the grammar cannot tell it apart from a URN-prefixed attribute, so the
/// caller that knows the schemas resolves it (see [`AttrPath::full_urn`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// Schema URN prefix, without the trailing `:`.
    pub urn: Option<String>,
    /// Attribute name.
    pub name: String,
    /// Sub-attribute name, for complex attributes.
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// A path to a top-level attribute of the core schema.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            urn: None,
            name: name.into(),
            sub_attr: None,
        }
    }

    /// A path to a sub-attribute of a complex core attribute.
    pub fn sub(name: impl Into<String>, sub_attr: impl Into<String>) -> Self {
        Self {
            urn: None,
            name: name.into(),
            sub_attr: Some(sub_attr.into()),
        }
    }

    /// `urn:name` when the path has a URN and no sub-attribute: the URN this path would
    /// denote if it named a whole schema rather than an attribute of one.
    pub fn full_urn(&self) -> Option<String> {
        match (&self.urn, &self.sub_attr) {
            (Some(urn), None) => Some(format!("{urn}:{}", self.name)),
            _ => None,
        }
    }
}

/// Comparison operators of RFC 7644 §3.4.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal.
    Le,
}

impl CompareOp {
    /// Every comparison operator, in the order RFC 7644 lists them.
    pub const ALL: [CompareOp; 9] = [
        Self::Eq,
        Self::Ne,
        Self::Co,
        Self::Sw,
        Self::Ew,
        Self::Gt,
        Self::Ge,
        Self::Lt,
        Self::Le,
    ];

    /// The operator's keyword in canonical (lowercase) form, e.g. `"eq"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    /// The operator a keyword names, compared case-insensitively (`"EQ"` is [`Self::Eq`]).
    pub fn from_keyword(keyword: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(keyword))
    }
}

/// A literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A JSON number.
    Number(serde_json::Number),
    /// A JSON string (dateTime and reference values are strings too).
    String(String),
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `path op value`.
    Compare {
        /// Attribute compared.
        path: AttrPath,
        /// Operator.
        op: CompareOp,
        /// Literal.
        value: CompValue,
    },
    /// `path pr`.
    Present(AttrPath),
    /// `a and b`.
    And(Box<Filter>, Box<Filter>),
    /// `a or b`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (a)`.
    Not(Box<Filter>),
    /// `path[filter]`, e.g. `emails[type eq "work" and value co "@acme"]`: true when one
    /// value of the multi-valued (or complex) attribute at `path` matches `filter`, whose
    /// paths are relative to that value. `path` has no sub-attribute.
    ValuePath {
        /// The multi-valued or complex attribute.
        path: AttrPath,
        /// The filter each value is tested with.
        filter: Box<Filter>,
    },
}
