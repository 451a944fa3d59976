//! SCIM representations (RFC 7643) of users, groups and lists, in INDIGO IAM's shapes
//! (docs/api.md §10): used by the SCIM endpoints and by every group that answers with
//! SCIM resources (find, search, group members).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::body::{JSON, SCIM_JSON};
use crate::config::ScimConfig;
use crate::contract::types::{Group, GroupRef, PageInfo, Profile, User};
use crate::scim::etag;
use crate::scim::projection::project;
use crate::scim::schema::ResourceType;
use crate::scim::schema::{GROUP_TYPE, INDIGO_GROUP, INDIGO_USER, USER_TYPE};

pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SCIM_CONTENT_TYPE: &str = "application/scim+json;charset=UTF-8";

/// A SCIM JSON response.
pub fn scim(status: StatusCode, body: Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SCIM_CONTENT_TYPE),
    );
    r
}

/// The `attributes` and `excludedAttributes` parameters of a request (RFC 7644 §3.9).
#[derive(Default, Clone)]
pub struct Shape {
    pub attributes: Option<String>,
    pub excluded: Option<String>,
}

impl Shape {
    pub fn is_default(&self) -> bool {
        self.attributes.is_none() && self.excluded.is_none()
    }

    /// The resource with only the attributes the request asked for.
    pub fn apply(&self, t: &ResourceType, resource: Value) -> Value {
        if self.is_default() {
            return resource;
        }
        project(
            t,
            resource,
            self.attributes.as_deref(),
            self.excluded.as_deref(),
        )
    }
}

/// One SCIM resource, shaped as the request asked: its version as `ETag`, and on 201 its
/// `meta.location` as `Location` (RFC 7644 §3.1, §3.14).
pub fn resource(status: StatusCode, t: &ResourceType, body: Value, shape: &Shape) -> Response {
    let header_of = |v: &Value| v.as_str().and_then(|s| HeaderValue::from_str(s).ok());
    let etag = header_of(&body["meta"]["version"]);
    let location = header_of(&body["meta"]["location"]).filter(|_| status == StatusCode::CREATED);
    let mut r = scim(status, shape.apply(t, body));
    if let Some(v) = etag {
        r.headers_mut().insert(header::ETAG, v);
    }
    if let Some(v) = location {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// ISO-8601 UTC with milliseconds (docs/api.md §3.6).
pub fn iso(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// What a SCIM user representation shows: links from the base URL, and the optional
/// IndigoUser members the `[scim]` config switches on.
pub struct ScimView {
    pub base_url: String,
    pub include: ScimConfig,
}

impl ScimView {
    /// The content types a SCIM request body may have: `application/scim+json`, as in
    /// INDIGO IAM, and `application/json` too when the operator accepts it.
    pub fn body_types(&self) -> &'static [&'static str] {
        if self.include.accept_application_json {
            &[SCIM_JSON, JSON]
        } else {
            &[SCIM_JSON]
        }
    }
}

fn group_ref_json(base: &str, g: &GroupRef) -> Value {
    json!({"value": g.id, "display": g.name, "$ref": format!("{base}/scim/Groups/{}", g.id)})
}

pub fn user_json(view: &ScimView, user: &User) -> Value {
    let base = &view.base_url;
    let a = &user.account;
    let location = format!("{base}/scim/Users/{}", a.id);
    let mut indigo = Map::new();
    indigo.insert("serviceAccount".into(), json!(a.service_account));
    if let Some(end) = a.end_time {
        indigo.insert("endTime".into(), json!(iso(end)));
    }
    let labels: Vec<Value> = user
        .labels
        .iter()
        .filter(|l| {
            view.include
                .include_labels
                .iter()
                .any(|i| i.name == l.name && i.prefix == l.prefix)
        })
        .map(|l| json!({"prefix": l.prefix, "name": l.name, "value": l.value}))
        .collect();
    if !labels.is_empty() {
        indigo.insert("labels".into(), labels.into());
    }
    let attributes: Vec<Value> = user
        .attributes
        .iter()
        .filter(|at| {
            view.include
                .include_attributes
                .iter()
                .any(|i| i.name == at.name)
        })
        .map(|at| json!({"name": at.name, "value": at.value}))
        .collect();
    if !attributes.is_empty() {
        indigo.insert("attributes".into(), attributes.into());
    }
    if !user.oidc_ids.is_empty() {
        let ids: Vec<Value> = user
            .oidc_ids
            .iter()
            .map(|o| json!({"issuer": o.issuer, "subject": o.subject}))
            .collect();
        indigo.insert("oidcIds".into(), ids.into());
    }
    if !user.saml_ids.is_empty() {
        let ids: Vec<Value> = user
            .saml_ids
            .iter()
            .map(|s| json!({"idpId": s.idp_id, "userId": s.user_id, "attributeId": s.attribute_id}))
            .collect();
        indigo.insert("samlIds".into(), ids.into());
    }
    if !user.ssh_keys.is_empty() {
        let keys: Vec<Value> = user
            .ssh_keys
            .iter()
            .map(|k| {
                let mut m = json!({"primary": k.primary, "value": k.value, "fingerprint": k.fingerprint,
                                   "created": iso(k.created), "lastModified": iso(k.last_modified)});
                if let Some(d) = &k.display {
                    m["display"] = json!(d);
                }
                m
            })
            .collect();
        indigo.insert("sshKeys".into(), keys.into());
    }
    if !user.certificates.is_empty() {
        let certs: Vec<Value> = user
            .certificates
            .iter()
            .map(|c| {
                let mut m = json!({"primary": c.primary, "subjectDn": c.subject_dn, "issuerDn": c.issuer_dn,
                                   "pemEncodedCertificate": c.pem, "created": iso(c.created),
                                   "lastModified": iso(c.last_modified), "hasProxyCertificate": c.has_proxy});
                if let Some(d) = &c.display {
                    m["display"] = json!(d);
                }
                if let Some(t) = c.proxy_expiration {
                    m["proxyExpirationTime"] = json!(iso(t));
                }
                m
            })
            .collect();
        indigo.insert("certificates".into(), certs.into());
    }
    if view.include.include_authorities && !user.authorities.is_empty() {
        indigo.insert("authorities".into(), json!(user.authorities));
    }
    if view.include.include_managed_groups && !user.managed_groups.is_empty() {
        let managed: Vec<Value> = user
            .managed_groups
            .iter()
            .map(|g| group_ref_json(base, g))
            .collect();
        indigo.insert("managedGroups".into(), managed.into());
    }
    let mut u = json!({
        "id": a.id,
        "meta": {"resourceType": "User", "created": iso(a.created),
                 "lastModified": iso(a.last_modified), "location": location},
        "schemas": USER_TYPE.schema_ids(),
        "userName": a.username,
        "name": {"givenName": a.given_name, "familyName": a.family_name,
                 "formatted": format!("{} {}", a.given_name, a.family_name)},
        "displayName": a.username,
        "active": a.active,
        "emails": [{"type": "work", "value": a.email, "primary": true}],
        INDIGO_USER: indigo,
    });
    if !user.groups.is_empty() {
        u["groups"] = user
            .groups
            .iter()
            .map(|g| group_ref_json(base, g))
            .collect();
    }
    add_profile(&mut u, &user.profile);
    etag::stamp(&mut u);
    u
}

/// The profile's members, each only when set (IAM's NON_EMPTY rendering).
fn add_profile(u: &mut Value, p: &Profile) {
    let fields = [
        ("nickName", &p.nick_name),
        ("profileUrl", &p.profile_url),
        ("locale", &p.locale),
        ("timezone", &p.timezone),
    ];
    for (key, value) in fields {
        if let Some(v) = value {
            u[key] = json!(v);
        }
    }
    if let Some(picture) = &p.picture {
        u["photos"] = json!([{"value": picture, "type": "photo"}]);
    }
    if let Some(a) = &p.address {
        let parts = [
            ("formatted", &a.formatted),
            ("streetAddress", &a.street_address),
            ("locality", &a.locality),
            ("region", &a.region),
            ("postalCode", &a.postal_code),
            ("country", &a.country),
        ];
        let address: Map<String, Value> = parts
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), json!(v))))
            .collect();
        u["addresses"] = json!([address]);
    }
}

pub fn group_json(base: &str, g: &Group) -> Value {
    let parent = g.parent.as_ref().map(|p| {
        json!({"display": p.name, "value": p.id, "$ref": format!("{base}/scim/Groups/{}", p.id)})
    });
    let mut group = json!({
        "id": g.id,
        "meta": {"resourceType": "Group", "created": iso(g.created),
                 "lastModified": iso(g.last_modified), "location": format!("{base}/scim/Groups/{}", g.id)},
        "schemas": GROUP_TYPE.schema_ids(),
        "displayName": g.name,
        INDIGO_GROUP: {"parentGroup": parent, "description": g.description, "labels": null},
    });
    etag::stamp(&mut group);
    group
}

/// A list response without `schemas` (the search endpoints'); `count=0` gives the count
/// only.
pub fn plain_list_json(info: &PageInfo, resources: Vec<Value>) -> Value {
    if info.count_only {
        return json!({"totalResults": info.total_results, "Resources": []});
    }
    json!({
        "totalResults": info.total_results,
        "itemsPerPage": resources.len(),
        "startIndex": info.start_index,
        "Resources": resources,
    })
}

/// A SCIM list response: the plain one with `schemas`.
pub fn list_json(info: &PageInfo, resources: Vec<Value>) -> Value {
    let mut body = plain_list_json(info, resources);
    body["schemas"] = json!([LIST_SCHEMA]);
    body
}

/// Keeps only the named top-level members of a SCIM resource.
pub fn restrict(mut resource: Value, keep: &[&str]) -> Value {
    if let Value::Object(m) = &mut resource {
        m.retain(|k, _| keep.contains(&k.as_str()));
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{IncludedAttribute, IncludedLabel};
    use crate::contract::types::{
        Account, Address, Attribute, Certificate, Label, OidcId, SamlId, SshKey,
    };
    use crate::scim::schema::{COMMON, GROUP_TYPE, Schema, USER_TYPE};

    fn r(id: &str, name: &str) -> GroupRef {
        GroupRef {
            id: id.into(),
            name: name.into(),
        }
    }

    /// A user with every field set, shown with every optional member switched on.
    fn full() -> (ScimView, User) {
        let some = |s: &str| Some(s.to_string());
        let view = ScimView {
            base_url: "https://iam.test".into(),
            include: ScimConfig {
                include_labels: vec![IncludedLabel {
                    prefix: None,
                    name: "team".into(),
                }],
                include_attributes: vec![IncludedAttribute { name: "a".into() }],
                include_authorities: true,
                include_managed_groups: true,
                ..ScimConfig::default()
            },
        };
        let user = User {
            account: Account {
                id: "u".into(),
                username: "alice".into(),
                given_name: "Alice".into(),
                family_name: "Liddell".into(),
                email: "a@x.org".into(),
                active: true,
                service_account: false,
                created: 1,
                last_modified: 2,
                end_time: Some(3),
            },
            profile: Profile {
                nick_name: some("ali"),
                profile_url: some("https://p"),
                locale: some("it"),
                timezone: some("Europe/Rome"),
                picture: some("https://p/a.png"),
                address: Some(Address {
                    formatted: some("f"),
                    street_address: some("s"),
                    locality: some("l"),
                    region: some("r"),
                    postal_code: some("p"),
                    country: some("IT"),
                }),
            },
            groups: vec![r("g", "cms")],
            labels: vec![Label {
                prefix: None,
                name: "team".into(),
                value: some("x"),
            }],
            attributes: vec![Attribute {
                name: "a".into(),
                value: some("v"),
            }],
            authorities: vec!["ROLE_USER".into()],
            managed_groups: vec![r("g", "cms")],
            oidc_ids: vec![OidcId {
                issuer: "i".into(),
                subject: "s".into(),
            }],
            saml_ids: vec![SamlId {
                idp_id: "i".into(),
                user_id: "u".into(),
                attribute_id: "a".into(),
            }],
            ssh_keys: vec![SshKey {
                display: some("d"),
                value: "v".into(),
                fingerprint: "f".into(),
                primary: true,
                created: 1,
                last_modified: 2,
            }],
            certificates: vec![Certificate {
                display: some("d"),
                subject_dn: "CN=s".into(),
                issuer_dn: "CN=i".into(),
                pem: "p".into(),
                primary: true,
                created: 1,
                last_modified: 2,
                has_proxy: true,
                proxy_expiration: Some(4),
            }],
        };
        (view, user)
    }

    /// Every member of `object` is an attribute of `attributes` (sub-attributes checked
    /// inside complex values), with the kind the schema gives it.
    fn declared(path: &str, object: &Value, attributes: &[&crate::scim::schema::Attribute]) {
        for (key, value) in object.as_object().unwrap() {
            let a = attributes
                .iter()
                .find(|a| a.name == key)
                .unwrap_or_else(|| panic!("{path}{key} is rendered but not in the schema"));
            let items = match value {
                Value::Array(items) => {
                    assert!(a.multi_valued, "{path}{key} is rendered as a list");
                    items.clone()
                }
                Value::Null => vec![],
                other => {
                    assert!(!a.multi_valued, "{path}{key} is rendered as one value");
                    vec![other.clone()]
                }
            };
            if !a.sub_attributes.is_empty() {
                let subs: Vec<_> = a.sub_attributes.iter().collect();
                for item in &items {
                    declared(&format!("{path}{key}."), item, &subs);
                }
            }
        }
    }

    fn check(resource: &Value, t: &ResourceType) {
        let mut core: Vec<_> = t.schema.attributes.iter().chain(COMMON).collect();
        let schemas = resource["schemas"].clone();
        let mut top = resource.as_object().unwrap().clone();
        top.remove("schemas");
        for ext in t.extensions {
            let ext: &Schema = ext;
            if let Some(e) = top.remove(ext.id) {
                declared(
                    &format!("{}:", ext.id),
                    &e,
                    &ext.attributes.iter().collect::<Vec<_>>(),
                );
            }
        }
        core.sort_by_key(|a| a.name);
        declared("", &Value::Object(top), &core);
        assert_eq!(schemas, json!(t.schema_ids()));
    }

    #[test]
    fn every_rendered_member_is_in_the_schema() {
        let (view, user) = full();
        check(&user_json(&view, &user), &USER_TYPE);
        let group = Group {
            id: "g".into(),
            name: "cms/ops".into(),
            description: Some("d".into()),
            parent: Some(r("p", "cms")),
            created: 1,
            last_modified: 2,
        };
        check(&group_json("https://iam.test", &group), &GROUP_TYPE);
    }
}
