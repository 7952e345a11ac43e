//! The built-in schemas, as data: RFC 7643 §4.1 (User), §4.2 (Group), §4.3 (enterprise
//! User), their §8.7.1 representations, and Muster's shop extension (`docs/api.md`,
//! "The shop extension").

use super::{Attribute, AttributeType, Mutability, Returned, Schema, Uniqueness};
use crate::urn;

use AttributeType::{Binary, Boolean, Complex, DateTime, Integer, Reference};

/// Terse constructors for definitions; every characteristic starts at its RFC 7643 §2.2
/// default (single-valued, optional, case-insensitive, readWrite, default, no uniqueness).
impl Attribute {
    fn new(name: &str, kind: AttributeType, description: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            multi_valued: false,
            description: description.to_owned(),
            required: false,
            canonical_values: Vec::new(),
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            reference_types: Vec::new(),
            sub_attributes: Vec::new(),
        }
    }

    fn string(name: &str, description: &str) -> Self {
        Self::new(name, AttributeType::String, description)
    }

    fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    fn require(mut self) -> Self {
        self.required = true;
        self
    }

    fn exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    fn mutable(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    fn returns(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    fn unique(mut self, uniqueness: Uniqueness) -> Self {
        self.uniqueness = uniqueness;
        self
    }

    fn canonical(mut self, values: &[&str]) -> Self {
        self.canonical_values = values.iter().map(|value| (*value).to_owned()).collect();
        self
    }

    fn refs(mut self, types: &[&str]) -> Self {
        self.reference_types = types.iter().map(|value| (*value).to_owned()).collect();
        self
    }

    fn subs(mut self, sub_attributes: Vec<Attribute>) -> Self {
        self.sub_attributes = sub_attributes;
        self
    }

    /// Marks this attribute and all its sub-attributes read-only.
    fn read_only(mut self) -> Self {
        self.mutability = Mutability::ReadOnly;
        self.sub_attributes = self
            .sub_attributes
            .into_iter()
            .map(Self::read_only)
            .collect();
        self
    }
}

/// The common attributes of RFC 7643 §3.1.
fn common() -> Vec<Attribute> {
    vec![
        Attribute::string(
            "id",
            "Unique identifier for the resource, assigned by the \
             service provider.",
        )
        .exact()
        .mutable(Mutability::ReadOnly)
        .returns(Returned::Always)
        .unique(Uniqueness::Server),
        Attribute::string(
            "externalId",
            "Identifier of the resource as defined by the \
             provisioning client.",
        )
        .exact(),
        Attribute::new(
            "meta",
            Complex,
            "Resource metadata, maintained by the service provider.",
        )
        .subs(vec![
            Attribute::string("resourceType", "Name of the resource type of the resource.").exact(),
            Attribute::new(
                "created",
                DateTime,
                "When the resource was added to the service provider.",
            ),
            Attribute::new(
                "lastModified",
                DateTime,
                "When the resource was last updated.",
            ),
            Attribute::new("location", Reference, "URI of the resource being returned.")
                .refs(&["uri"]),
            Attribute::string("version", "Version (ETag) of the resource being returned.").exact(),
        ])
        .read_only(),
    ]
}

/// The `value`, `display`, `type` and `primary` sub-attributes of a multi-valued
/// attribute (RFC 7643 §2.4), given its `value` definition.
fn multi_value_subs(value: Attribute, types: &[&str]) -> Vec<Attribute> {
    vec![
        value,
        Attribute::string(
            "display",
            "A human-readable name, primarily used for display \
             purposes.",
        ),
        Attribute::string("type", "A label indicating the attribute's function.").canonical(types),
        Attribute::new(
            "primary",
            Boolean,
            "Whether this is the preferred value; at most one is.",
        ),
    ]
}

impl Schema {
    /// Core User (RFC 7643 §4.1, §8.7.1), with the common attributes of §3.1.
    pub fn core_user() -> Self {
        let mut attributes = common();
        attributes.extend([
            Attribute::string(
                "userName",
                "Unique identifier for the User, typically used by the user \
                 to directly authenticate to the service provider.",
            )
            .require()
            .unique(Uniqueness::Server),
            Attribute::new("name", Complex, "The components of the user's real name.").subs(vec![
                Attribute::string(
                    "formatted",
                    "The full name, including all middle names, titles, and \
                     suffixes as appropriate, formatted for display.",
                ),
                Attribute::string(
                    "familyName",
                    "The family name of the User, or last name in most Western languages.",
                ),
                Attribute::string(
                    "givenName",
                    "The given name of the User, or first name in most Western languages.",
                ),
                Attribute::string("middleName", "The middle name(s) of the User."),
                Attribute::string(
                    "honorificPrefix",
                    "The honorific prefix(es) of the User, or title in most \
                     Western languages.",
                ),
                Attribute::string(
                    "honorificSuffix",
                    "The honorific suffix(es) of the User, or suffix in most \
                     Western languages.",
                ),
            ]),
            Attribute::string(
                "displayName",
                "The name of the User, suitable for display to end-users.",
            ),
            Attribute::string(
                "nickName",
                "The casual way to address the user in real life.",
            ),
            Attribute::new(
                "profileUrl",
                Reference,
                "A fully qualified URL pointing to a page representing the \
                 User's online profile.",
            )
            .refs(&["external"]),
            Attribute::string("title", "The user's title, such as \"Vice President\"."),
            Attribute::string(
                "userType",
                "Identifies the relationship between the organization and the user.",
            ),
            Attribute::string(
                "preferredLanguage",
                "The User's preferred written or spoken language, as in the \
                 HTTP Accept-Language header.",
            ),
            Attribute::string(
                "locale",
                "The User's default location for localizing items such as \
                 currency and dates.",
            ),
            Attribute::string(
                "timezone",
                "The User's time zone in the \"Olson\" time zone database format.",
            ),
            Attribute::new("active", Boolean, "The User's administrative status."),
            Attribute::string(
                "password",
                "The User's cleartext password, used to set or replace it. \
                 Never returned.",
            )
            .mutable(Mutability::WriteOnly)
            .returns(Returned::Never),
            Attribute::new("emails", Complex, "Email addresses for the user.")
                .multi()
                .subs(multi_value_subs(
                    Attribute::string("value", "Email address for the user."),
                    &["work", "home", "other"],
                )),
            Attribute::new("phoneNumbers", Complex, "Phone numbers for the User.")
                .multi()
                .subs(multi_value_subs(
                    Attribute::string("value", "Phone number of the User."),
                    &["work", "home", "mobile", "fax", "pager", "other"],
                )),
            Attribute::new("ims", Complex, "Instant messaging addresses for the User.")
                .multi()
                .subs(multi_value_subs(
                    Attribute::string("value", "Instant messaging address for the User."),
                    &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
                )),
            Attribute::new("photos", Complex, "URLs of photos of the User.")
                .multi()
                .subs(multi_value_subs(
                    Attribute::new("value", Reference, "URL of a photo of the User.")
                        .refs(&["external"]),
                    &["photo", "thumbnail"],
                )),
            Attribute::new(
                "addresses",
                Complex,
                "A physical mailing address for this User.",
            )
            .multi()
            .subs(vec![
                Attribute::string(
                    "formatted",
                    "The full mailing address, formatted for display or use with \
                     a mailing label.",
                ),
                Attribute::string("streetAddress", "The full street address component."),
                Attribute::string("locality", "The city or locality component."),
                Attribute::string("region", "The state or region component."),
                Attribute::string("postalCode", "The zip code or postal code component."),
                Attribute::string(
                    "country",
                    "The country name component, as an ISO 3166-1 alpha-2 code.",
                ),
                Attribute::string("type", "A label indicating the attribute's function.")
                    .canonical(&["work", "home", "other"]),
                Attribute::new(
                    "primary",
                    Boolean,
                    "Whether this is the preferred mailing address; at most one is.",
                ),
            ]),
            Attribute::new(
                "groups",
                Complex,
                "Groups the user belongs to, directly or indirectly.",
            )
            .multi()
            .subs(vec![
                Attribute::string("value", "The identifier of the User's group."),
                Attribute::new(
                    "$ref",
                    Reference,
                    "The URI of the corresponding Group resource.",
                )
                .refs(&["User", "Group"]),
                Attribute::string(
                    "display",
                    "A human-readable name, primarily used for display purposes.",
                ),
                Attribute::string(
                    "type",
                    "Whether membership is direct or indirect (through another group).",
                )
                .canonical(&["direct", "indirect"]),
            ])
            .read_only(),
            Attribute::new("entitlements", Complex, "Entitlements for the User.")
                .multi()
                .subs(multi_value_subs(
                    Attribute::string("value", "The value of an entitlement."),
                    &[],
                )),
            Attribute::new("roles", Complex, "Roles for the User.")
                .multi()
                .subs(multi_value_subs(
                    Attribute::string("value", "The value of a role."),
                    &[],
                )),
            Attribute::new(
                "x509Certificates",
                Complex,
                "X.509 certificates issued to the User.",
            )
            .multi()
            .subs(multi_value_subs(
                Attribute::new(
                    "value",
                    Binary,
                    "The value of an X.509 certificate (DER, base64).",
                ),
                &[],
            )),
        ]);
        Self {
            id: urn::USER.to_owned(),
            name: Some("User".to_owned()),
            description: Some("User Account".to_owned()),
            attributes,
        }
    }

    /// Core Group (RFC 7643 §4.2, §8.7.1), with the common attributes of §3.1.
    ///
    /// `displayName` is required, as §4.2 says; the §8.7.1 listing marks it optional,
    /// which contradicts the normative text.
    pub fn core_group() -> Self {
        let mut attributes = common();
        attributes.extend([
            Attribute::string("displayName", "A human-readable name for the Group.").require(),
            Attribute::new("members", Complex, "A list of members of the Group.")
                .multi()
                .subs(vec![
                    Attribute::string("value", "Identifier of the member of this Group.")
                        .mutable(Mutability::Immutable),
                    Attribute::new(
                        "$ref",
                        Reference,
                        "The URI corresponding to a SCIM resource that is a \
                         member of this Group.",
                    )
                    .refs(&["User", "Group"])
                    .mutable(Mutability::Immutable),
                    Attribute::string(
                        "type",
                        "A label indicating the type of resource, e.g., 'User' or \
                         'Group'.",
                    )
                    .canonical(&["User", "Group"])
                    .mutable(Mutability::Immutable),
                    Attribute::string(
                        "display",
                        "A human-readable name, primarily used for display \
                         purposes.",
                    )
                    .mutable(Mutability::Immutable),
                ]),
        ]);
        Self {
            id: urn::GROUP.to_owned(),
            name: Some("Group".to_owned()),
            description: Some("Group".to_owned()),
            attributes,
        }
    }

    /// Enterprise User extension (RFC 7643 §4.3, §8.7.1).
    pub fn enterprise_user() -> Self {
        Self {
            id: urn::ENTERPRISE_USER.to_owned(),
            name: Some("EnterpriseUser".to_owned()),
            description: Some("Enterprise User".to_owned()),
            attributes: vec![
                Attribute::string(
                    "employeeNumber",
                    "Numeric or alphanumeric identifier assigned to a person, \
                     typically based on order of hire or association with an \
                     organization.",
                ),
                Attribute::string("costCenter", "Identifies the name of a cost center."),
                Attribute::string("organization", "Identifies the name of an organization."),
                Attribute::string("division", "Identifies the name of a division."),
                Attribute::string("department", "Identifies the name of a department."),
                Attribute::new("manager", Complex, "The User's manager.").subs(vec![
                    Attribute::string(
                        "value",
                        "The id of the SCIM resource representing the User's \
                         manager.",
                    ),
                    Attribute::new(
                        "$ref",
                        Reference,
                        "The URI of the SCIM resource representing the User's \
                         manager.",
                    )
                    .refs(&["User"]),
                    Attribute::string("displayName", "The displayName of the User's manager.")
                        .mutable(Mutability::ReadOnly),
                ]),
            ],
        }
    }

    /// Muster's shop extension of User: licence, role, where the person works, and the
    /// account state the server maintains (read-only).
    pub fn shop_user() -> Self {
        Self {
            id: urn::SHOP_USER.to_owned(),
            name: Some("ShopUser".to_owned()),
            description: Some(
                "Field-service shop user: licence, role, branches and \
                 account state"
                    .to_owned(),
            ),
            attributes: vec![
                Attribute::string("licence", "The product licence the user holds.").canonical(&[
                    "field",
                    "desk",
                    "contractor",
                    "customer",
                    "api",
                    "timesheet",
                ]),
                Attribute::string(
                    "role",
                    "Admin (everything, manages users), technician (day-to-day \
                     work) or viewer (read only).",
                )
                .canonical(&["admin", "technician", "viewer"]),
                Attribute::string(
                    "securityGroup",
                    "The security group that scopes what the user may see.",
                ),
                Attribute::string(
                    "serviceGroups",
                    "Service groups the user works in, e.g. Sprinkler, Electrical.",
                )
                .multi(),
                Attribute::string("zones", "Service zones the user covers.").multi(),
                Attribute::string("homeBranch", "The branch the user is based at."),
                Attribute::string("branches", "Branches the user may work for.").multi(),
                Attribute::string("jobRole", "The user's job role, e.g. Service Technician."),
                Attribute::string("phone", "The user's work phone number."),
                Attribute::string("permissions", "Permission flags granted beyond the role.")
                    .multi()
                    .canonical(&[
                        "mobileAppAccess",
                        "viewOthersAssignments",
                        "pushToShopSystem",
                        "manageInventory",
                        "viewPricing",
                        "approveTimesheets",
                        "manageSchedules",
                        "manageCustomers",
                        "viewReports",
                    ]),
                Attribute::string("status", "Account state.")
                    .canonical(&["invited", "active", "suspended", "deactivated", "deleted"])
                    .mutable(Mutability::ReadOnly),
                Attribute::new(
                    "invitation",
                    Complex,
                    "The latest invitation sent to the user.",
                )
                .subs(vec![
                    Attribute::new("sentAt", DateTime, "When the invitation was sent."),
                    Attribute::new("expiresAt", DateTime, "When the invitation link expires."),
                    Attribute::string(
                        "state",
                        "Whether the invitation is pending, accepted or expired.",
                    )
                    .canonical(&["pending", "accepted", "expired"]),
                ])
                .read_only(),
                Attribute::new("lastSignIn", Complex, "The user's most recent sign-in.")
                    .subs(vec![
                        Attribute::new("at", DateTime, "When the user signed in."),
                        Attribute::string("method", "How the user signed in.").canonical(&[
                            "password",
                            "magic_link",
                            "google",
                            "microsoft",
                        ]),
                    ])
                    .read_only(),
                Attribute::new(
                    "mfaEnabled",
                    Boolean,
                    "Whether the user has two-factor authentication set up.",
                )
                .mutable(Mutability::ReadOnly),
                Attribute::new(
                    "activeSessions",
                    Integer,
                    "How many sessions of the user are signed in.",
                )
                .mutable(Mutability::ReadOnly),
            ],
        }
    }
}
