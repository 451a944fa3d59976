//! The SCIM schemas of the resources this server serves (RFC 7643 §2, §7), written once:
//! `/scim/Schemas` and `/scim/ResourceTypes` publish them, and the projection of a
//! resource (`attributes=`, `excludedAttributes=`) and the resolution of attribute paths
//! read them. Only what the server stores is declared; `id` and `meta` are the common
//! attributes of every resource (RFC 7643 §3.1) and are resolved but not published.

use serde_json::{Map, Value, json};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const INDIGO_USER: &str = "urn:indigo-dc:scim:schemas:IndigoUser";
pub const INDIGO_GROUP: &str = "urn:indigo-dc:scim:schemas:IndigoGroup";

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    DateTime,
    Reference,
    Complex,
}

/// Whether and how a client may change an attribute (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// When an attribute is returned (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// Whatever `attributes=` or `excludedAttributes=` say.
    Always,
    /// Not even when asked for (passwords).
    Never,
    /// Unless `excludedAttributes=` names it, or `attributes=` names others.
    Default,
}

/// How unique a value is (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
}

/// One attribute of a schema, with its characteristics (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy)]
pub struct Attribute {
    pub name: &'static str,
    pub kind: Kind,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    /// Whether string comparisons (filters, uniqueness) respect case.
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    /// For references: what they point to (`User`, `Group`, `external`).
    pub reference_types: &'static [&'static str],
    /// Suggested values (`type` of emails and photos).
    pub canonical_values: &'static [&'static str],
    pub sub_attributes: &'static [Attribute],
}

impl Attribute {
    const fn new(name: &'static str, kind: Kind, description: &'static str) -> Attribute {
        Attribute {
            name,
            kind,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            reference_types: &[],
            canonical_values: &[],
            sub_attributes: &[],
        }
    }

    const fn string(name: &'static str, description: &'static str) -> Attribute {
        Attribute::new(name, Kind::String, description)
    }

    const fn boolean(name: &'static str, description: &'static str) -> Attribute {
        Attribute::new(name, Kind::Boolean, description)
    }

    const fn date_time(name: &'static str, description: &'static str) -> Attribute {
        Attribute::new(name, Kind::DateTime, description)
    }

    const fn reference(
        name: &'static str,
        to: &'static [&'static str],
        description: &'static str,
    ) -> Attribute {
        Attribute {
            reference_types: to,
            case_exact: true,
            ..Attribute::new(name, Kind::Reference, description)
        }
    }

    const fn complex(
        name: &'static str,
        sub_attributes: &'static [Attribute],
        description: &'static str,
    ) -> Attribute {
        Attribute {
            sub_attributes,
            ..Attribute::new(name, Kind::Complex, description)
        }
    }

    const fn multi(self) -> Attribute {
        Attribute {
            multi_valued: true,
            ..self
        }
    }

    const fn required(self) -> Attribute {
        Attribute {
            required: true,
            ..self
        }
    }

    const fn case_exact(self) -> Attribute {
        Attribute {
            case_exact: true,
            ..self
        }
    }

    const fn read_only(self) -> Attribute {
        Attribute {
            mutability: Mutability::ReadOnly,
            ..self
        }
    }

    const fn immutable(self) -> Attribute {
        Attribute {
            mutability: Mutability::Immutable,
            ..self
        }
    }

    const fn unique(self) -> Attribute {
        Attribute {
            uniqueness: Uniqueness::Server,
            ..self
        }
    }

    const fn returned(self, returned: Returned) -> Attribute {
        Attribute { returned, ..self }
    }

    const fn write_only(self) -> Attribute {
        Attribute {
            mutability: Mutability::WriteOnly,
            returned: Returned::Never,
            ..self
        }
    }

    const fn canonical(self, values: &'static [&'static str]) -> Attribute {
        Attribute {
            canonical_values: values,
            ..self
        }
    }

    /// The sub-attribute `name` (case-insensitive, RFC 7643 §2.1).
    pub fn sub(&self, name: &str) -> Option<&'static Attribute> {
        find(self.sub_attributes, name)
    }

    /// This attribute's definition as `/scim/Schemas` shows it (RFC 7643 §7).
    pub fn to_json(self) -> Value {
        let mut a = Map::new();
        a.insert("name".into(), json!(self.name));
        a.insert("type".into(), json!(kind_name(self.kind)));
        a.insert("multiValued".into(), json!(self.multi_valued));
        a.insert("description".into(), json!(self.description));
        a.insert("required".into(), json!(self.required));
        if self.kind != Kind::Complex && self.kind != Kind::Boolean {
            a.insert("caseExact".into(), json!(self.case_exact));
        }
        if !self.canonical_values.is_empty() {
            a.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        a.insert("mutability".into(), json!(mutability_name(self.mutability)));
        a.insert("returned".into(), json!(returned_name(self.returned)));
        if self.kind != Kind::Complex && self.kind != Kind::Boolean {
            a.insert("uniqueness".into(), json!(uniqueness_name(self.uniqueness)));
        }
        if self.kind == Kind::Reference {
            a.insert("referenceTypes".into(), json!(self.reference_types));
        }
        if !self.sub_attributes.is_empty() {
            let subs: Vec<Value> = self.sub_attributes.iter().map(|a| a.to_json()).collect();
            a.insert("subAttributes".into(), subs.into());
        }
        Value::Object(a)
    }
}

fn find(attributes: &'static [Attribute], name: &str) -> Option<&'static Attribute> {
    attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::String => "string",
        Kind::Boolean => "boolean",
        Kind::DateTime => "dateTime",
        Kind::Reference => "reference",
        Kind::Complex => "complex",
    }
}

fn mutability_name(m: Mutability) -> &'static str {
    match m {
        Mutability::ReadOnly => "readOnly",
        Mutability::ReadWrite => "readWrite",
        Mutability::Immutable => "immutable",
        Mutability::WriteOnly => "writeOnly",
    }
}

fn returned_name(r: Returned) -> &'static str {
    match r {
        Returned::Always => "always",
        Returned::Never => "never",
        Returned::Default => "default",
    }
}

fn uniqueness_name(u: Uniqueness) -> &'static str {
    match u {
        Uniqueness::None => "none",
        Uniqueness::Server => "server",
    }
}

/// A schema: its URN and attributes.
#[derive(Debug)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [Attribute],
}

impl Schema {
    /// The top-level attribute `name` (case-insensitive).
    pub fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        find(self.attributes, name)
    }

    /// The schema as `/scim/Schemas/{id}` shows it; `base_url` makes `meta.location`.
    pub fn to_json(&self, base_url: &str) -> Value {
        let attributes: Vec<Value> = self.attributes.iter().map(|a| a.to_json()).collect();
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": attributes,
            "meta": {"resourceType": "Schema",
                     "location": format!("{base_url}/scim/Schemas/{}", self.id)},
        })
    }
}

/// A resource type (RFC 7643 §6): where it lives and which schemas describe it.
#[derive(Debug)]
pub struct ResourceType {
    pub name: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub schema: &'static Schema,
    pub extensions: &'static [&'static Schema],
}

impl ResourceType {
    /// The resource type as `/scim/ResourceTypes/{name}` shows it.
    pub fn to_json(&self, base_url: &str) -> Value {
        // A client may create a resource without the extension, though the server always
        // renders it: not required.
        let extensions: Vec<Value> = self
            .extensions
            .iter()
            .map(|s| json!({"schema": s.id, "required": false}))
            .collect();
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.schema.id,
            "schemaExtensions": extensions,
            "meta": {"resourceType": "ResourceType",
                     "location": format!("{base_url}/scim/ResourceTypes/{}", self.name)},
        })
    }

    /// The schema URNs a resource of this type names in `schemas`.
    pub fn schema_ids(&self) -> Vec<&'static str> {
        std::iter::once(self.schema.id)
            .chain(self.extensions.iter().map(|s| s.id))
            .collect()
    }

    /// The schema (core or extension) whose URN is `urn` (case-insensitive).
    pub fn schema_by_urn(&self, urn: &str) -> Option<&'static Schema> {
        std::iter::once(self.schema)
            .chain(self.extensions.iter().copied())
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Resolves an attribute path: `urn` (a schema of this type, or none for the core
    /// schema and the common attributes), a top-level `name`, and an optional sub-attribute.
    /// `None` when the path names nothing this type has.
    pub fn resolve(&self, urn: Option<&str>, name: &str, sub: Option<&str>) -> Option<Resolved> {
        let (schema, top) = match urn {
            Some(urn) => {
                let schema = self.schema_by_urn(urn)?;
                (Some(schema), schema.attribute(name)?)
            }
            None => match find(COMMON, name) {
                Some(common) => (None, common),
                None => (Some(self.schema), self.schema.attribute(name)?),
            },
        };
        let leaf = match sub {
            Some(sub) => Some(top.sub(sub)?),
            None => None,
        };
        Some(Resolved {
            schema: schema.map(|s| s.id),
            attribute: top,
            sub: leaf,
        })
    }
}

/// An attribute path resolved against a resource type.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    /// The schema of the attribute; `None` for the common attributes (`id`, `meta`).
    pub schema: Option<&'static str>,
    pub attribute: &'static Attribute,
    pub sub: Option<&'static Attribute>,
}

impl Resolved {
    /// The attribute the path ends at.
    pub fn leaf(&self) -> &'static Attribute {
        self.sub.unwrap_or(self.attribute)
    }

    /// Whether the attribute lives in an extension object rather than at the top level.
    pub fn in_extension(&self) -> bool {
        self.schema.is_some_and(|s| s != USER && s != GROUP)
    }
}

/// The common attributes of every resource (RFC 7643 §3.1).
pub static COMMON: &[Attribute] = &[
    Attribute::string("id", "The server's unique identifier of the resource.")
        .case_exact()
        .read_only()
        .unique()
        .returned(Returned::Always),
    Attribute::complex(
        "meta",
        &[
            Attribute::string("resourceType", "The resource's type.")
                .case_exact()
                .read_only(),
            Attribute::date_time("created", "When the resource was created.").read_only(),
            Attribute::date_time("lastModified", "When the resource was last changed.").read_only(),
            Attribute::reference("location", &["uri"], "The resource's URI.").read_only(),
            Attribute::string("version", "The resource's weak entity tag.")
                .case_exact()
                .read_only(),
        ],
        "The resource's metadata.",
    )
    .read_only(),
];

const GROUP_REF: &[Attribute] = &[
    Attribute::string("value", "The group's id.")
        .case_exact()
        .read_only(),
    Attribute::reference("$ref", &["Group"], "The group's URI.").read_only(),
    Attribute::string("display", "The group's full name.").read_only(),
];

const LABEL: &[Attribute] = &[
    Attribute::string("prefix", "The label's prefix.")
        .case_exact()
        .read_only(),
    Attribute::string("name", "The label's name.")
        .case_exact()
        .read_only(),
    Attribute::string("value", "The label's value.")
        .case_exact()
        .read_only(),
];

pub static USER_SCHEMA: Schema = Schema {
    id: USER,
    name: "User",
    description: "User Account",
    attributes: &[
        // Unique as written: `alice` and `Alice` are two users, so comparisons respect case.
        Attribute::string("userName", "The user's unique login name.")
            .case_exact()
            .required()
            .unique(),
        Attribute::complex(
            "name",
            &[
                Attribute::string(
                    "formatted",
                    "The full name: the given name, a space and the family name.",
                )
                .read_only(),
                Attribute::string("familyName", "The family name (2 to 64 characters).").required(),
                Attribute::string("givenName", "The given name (2 to 64 characters).").required(),
            ],
            "The user's name.",
        )
        .required(),
        Attribute::string("displayName", "Always the userName.").read_only(),
        Attribute::string("nickName", "A casual name."),
        Attribute::reference("profileUrl", &["external"], "A page about the user."),
        Attribute::string("locale", "The user's locale."),
        Attribute::string("timezone", "The user's time zone."),
        Attribute::boolean("active", "Whether the user may sign in."),
        Attribute::string("password", "The user's password, in clear; stored hashed.").write_only(),
        Attribute::complex(
            "emails",
            &[
                Attribute::string("value", "The email address.")
                    .required()
                    .unique(),
                // Required on input by INDIGO IAM's rules, though not stored (always
                // shown as a primary "work" address).
                Attribute::string("type", "The kind of address.")
                    .canonical(&["work", "home", "other"])
                    .required(),
                Attribute::boolean("primary", "Whether this is the primary address.").required(),
            ],
            "The user's email address: exactly one.",
        )
        .multi()
        .required(),
        Attribute::complex(
            "photos",
            &[
                Attribute::reference("value", &["external"], "The picture's URL."),
                Attribute::string("type", "The kind of picture.").canonical(&["photo"]),
            ],
            "The user's picture: at most one.",
        )
        .multi(),
        Attribute::complex(
            "addresses",
            &[
                Attribute::string("formatted", "The full address."),
                Attribute::string("streetAddress", "The street."),
                Attribute::string("locality", "The city."),
                Attribute::string("region", "The region or state."),
                Attribute::string("postalCode", "The postal code."),
                Attribute::string("country", "The country."),
            ],
            "The user's postal address: at most one.",
        )
        .multi(),
        Attribute::complex(
            "groups",
            GROUP_REF,
            "The groups the user belongs to (changed through the groups).",
        )
        .multi()
        .read_only(),
    ],
};

pub static INDIGO_USER_SCHEMA: Schema = Schema {
    id: INDIGO_USER,
    name: "IndigoUser",
    description: "INDIGO IAM's extension of the user",
    attributes: &[
        Attribute::complex(
            "oidcIds",
            &[
                Attribute::string("issuer", "The OpenID provider.")
                    .case_exact()
                    .required(),
                Attribute::string("subject", "The subject at that provider.")
                    .case_exact()
                    .required(),
            ],
            "Linked OpenID Connect identities.",
        )
        .multi(),
        Attribute::complex(
            "samlIds",
            &[
                Attribute::string("idpId", "The SAML identity provider.")
                    .case_exact()
                    .required(),
                Attribute::string("userId", "The user's id at that provider.")
                    .case_exact()
                    .required(),
                Attribute::string("attributeId", "The SAML attribute holding the id.")
                    .case_exact()
                    .required(),
            ],
            "Linked SAML identities.",
        )
        .multi(),
        Attribute::complex(
            "sshKeys",
            &[
                Attribute::string("display", "A label."),
                Attribute::boolean("primary", "Whether this is the primary key."),
                Attribute::string("value", "The public key (OpenSSH format).")
                    .case_exact()
                    .required()
                    .unique(),
                Attribute::string("fingerprint", "The key's SHA-256 fingerprint.")
                    .case_exact()
                    .read_only(),
                Attribute::date_time("created", "When the key was added.").read_only(),
                Attribute::date_time("lastModified", "When the key was last changed.").read_only(),
            ],
            "SSH public keys.",
        )
        .multi(),
        Attribute::complex(
            "certificates",
            &[
                Attribute::string("display", "A label."),
                Attribute::boolean("primary", "Whether this is the primary certificate."),
                Attribute::string("subjectDn", "The certificate's subject.")
                    .case_exact()
                    .read_only(),
                Attribute::string("issuerDn", "The certificate's issuer.")
                    .case_exact()
                    .read_only(),
                Attribute::string("pemEncodedCertificate", "The certificate, PEM encoded.")
                    .case_exact()
                    .required(),
                Attribute::date_time("created", "When the certificate was linked.").read_only(),
                Attribute::date_time("lastModified", "When it was last changed.").read_only(),
                Attribute::boolean("hasProxyCertificate", "Whether a proxy of it is stored.")
                    .read_only(),
                Attribute::date_time("proxyExpirationTime", "When the stored proxy expires.")
                    .read_only(),
            ],
            "Linked X.509 certificates.",
        )
        .multi(),
        Attribute::date_time(
            "endTime",
            "When the account expires (set through /iam/account/{id}/endTime).",
        )
        .read_only(),
        Attribute::boolean(
            "serviceAccount",
            "Whether the account is a service account.",
        )
        .read_only(),
        Attribute::complex(
            "labels",
            LABEL,
            "The labels the operator chose to show ([scim] include_labels).",
        )
        .multi()
        .read_only(),
        Attribute::complex(
            "attributes",
            &[
                Attribute::string("name", "The attribute's name.")
                    .case_exact()
                    .read_only(),
                Attribute::string("value", "The attribute's value.")
                    .case_exact()
                    .read_only(),
            ],
            "The attributes the operator chose to show ([scim] include_attributes).",
        )
        .multi()
        .read_only(),
        Attribute::string(
            "authorities",
            "The user's authorities, when the operator shows them ([scim] include_authorities).",
        )
        .case_exact()
        .multi()
        .read_only(),
        Attribute::complex(
            "managedGroups",
            GROUP_REF,
            "The groups the user manages, when the operator shows them \
             ([scim] include_managed_groups).",
        )
        .multi()
        .read_only(),
    ],
};

pub static GROUP_SCHEMA: Schema = Schema {
    id: GROUP,
    name: "Group",
    description: "Group",
    attributes: &[
        Attribute::string(
            "displayName",
            "The group's full name: its parent's name, a slash and its own.",
        )
        .case_exact()
        .required()
        .unique(),
        Attribute::complex(
            "members",
            &[
                Attribute::string("value", "The member's id.").case_exact(),
                Attribute::reference("$ref", &["User"], "The member's URI."),
                Attribute::string("display", "The member's full name.").read_only(),
            ],
            "The group's members: changed by PATCH, listed at /scim/Groups/{id}/members.",
        )
        .multi()
        .returned(Returned::Never),
    ],
};

pub static INDIGO_GROUP_SCHEMA: Schema = Schema {
    id: INDIGO_GROUP,
    name: "IndigoGroup",
    description: "INDIGO IAM's extension of the group",
    attributes: &[
        Attribute::complex(
            "parentGroup",
            &[
                Attribute::string("value", "The parent's id.").case_exact(),
                Attribute::reference("$ref", &["Group"], "The parent's URI."),
                Attribute::string("display", "The parent's full name."),
            ],
            "The group's parent, chosen at creation.",
        )
        .immutable(),
        Attribute::string(
            "description",
            "What the group is for (set through /iam/group).",
        )
        .read_only(),
        Attribute::complex(
            "labels",
            LABEL,
            "Always null here: a group's labels are at /iam/group/{id}/labels.",
        )
        .multi()
        .read_only(),
    ],
};

pub static USER_TYPE: ResourceType = ResourceType {
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: &USER_SCHEMA,
    extensions: &[&INDIGO_USER_SCHEMA],
};

pub static GROUP_TYPE: ResourceType = ResourceType {
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    schema: &GROUP_SCHEMA,
    extensions: &[&INDIGO_GROUP_SCHEMA],
};

/// Every resource type, in the order discovery lists them.
pub static RESOURCE_TYPES: &[&ResourceType] = &[&USER_TYPE, &GROUP_TYPE];

/// Every published schema, in the order discovery lists them.
pub static SCHEMAS: &[&Schema] = &[
    &USER_SCHEMA,
    &GROUP_SCHEMA,
    &INDIGO_USER_SCHEMA,
    &INDIGO_GROUP_SCHEMA,
];

/// The schema whose URN is `id` (case-insensitive).
pub fn schema(id: &str) -> Option<&'static Schema> {
    SCHEMAS
        .iter()
        .copied()
        .find(|s| s.id.eq_ignore_ascii_case(id))
}

/// The resource type called `name` (case-insensitive).
pub fn resource_type(name: &str) -> Option<&'static ResourceType> {
    RESOURCE_TYPES
        .iter()
        .copied()
        .find(|t| t.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_is_published_with_its_attributes() {
        for s in SCHEMAS {
            let j = s.to_json("https://iam.test");
            assert_eq!(j["id"], s.id);
            assert_eq!(
                j["attributes"].as_array().unwrap().len(),
                s.attributes.len()
            );
            for a in j["attributes"].as_array().unwrap() {
                for key in [
                    "name",
                    "type",
                    "multiValued",
                    "required",
                    "mutability",
                    "returned",
                ] {
                    assert!(a.get(key).is_some(), "{} lacks {key}", a["name"]);
                }
            }
        }
    }

    #[test]
    fn names_resolve_case_insensitively_through_urns_and_sub_attributes() {
        let r = USER_TYPE.resolve(None, "USERNAME", None).unwrap();
        assert_eq!(r.attribute.name, "userName");
        assert_eq!(r.schema, Some(USER));
        let r = USER_TYPE.resolve(None, "emails", Some("VALUE")).unwrap();
        assert_eq!(r.leaf().name, "value");
        let r = USER_TYPE
            .resolve(Some(INDIGO_USER), "oidcIds", Some("subject"))
            .unwrap();
        assert!(r.in_extension());
        assert!(r.leaf().case_exact);
        let r = USER_TYPE
            .resolve(None, "meta", Some("lastModified"))
            .unwrap();
        assert_eq!(r.schema, None);
        assert!(USER_TYPE.resolve(None, "oidcIds", None).is_none());
        assert!(USER_TYPE.resolve(None, "emails", Some("nope")).is_none());
        assert!(
            GROUP_TYPE
                .resolve(Some(INDIGO_USER), "oidcIds", None)
                .is_none()
        );
        assert!(USER_TYPE.resolve(Some(USER), "userName", None).is_some());
    }

    #[test]
    fn sub_attributes_only_on_complex_attributes() {
        fn check(a: &Attribute) {
            assert_eq!(
                a.kind == Kind::Complex,
                !a.sub_attributes.is_empty(),
                "{}",
                a.name
            );
            a.sub_attributes.iter().for_each(check);
        }
        SCHEMAS.iter().flat_map(|s| s.attributes).for_each(check);
        COMMON.iter().for_each(check);
    }
}
