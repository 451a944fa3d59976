//! SCIM 2.0 protocol features beyond INDIGO IAM's (docs/scim.md): discovery (RFC 7644 §4),
//! versions and conditional requests (§3.14), `Location` (§3.1), `attributes` and
//! `excludedAttributes` on single resources (§3.9), `scimType` (§3.12).

use iam_tests::*;
use reqwest::Method;
use reqwest::blocking::Response;
use reqwest::header::{ETAG, IF_MATCH, IF_NONE_MATCH, LOCATION};
use serde_json::{Value, json};

const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const INDIGO_GROUP: &str = "urn:indigo-dc:scim:schemas:IndigoGroup";

fn etag(r: &Response) -> String {
    r.headers()
        .get(ETAG)
        .unwrap_or_else(|| panic!("no ETag on {}", r.url()))
        .to_str()
        .unwrap()
        .to_string()
}

fn attribute<'a>(schema: &'a Value, name: &str) -> &'a Value {
    schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no attribute {name} in {}", schema["id"]))
}

#[test]
fn discovery_describes_the_server_to_any_valid_token() {
    let s = Server::start();
    let admin = s.token("admin");
    s.create_user(&admin, "alice");
    // A plain user: discovery describes the server, not its data.
    let alice = s.token("alice");

    let spc = expect_scim(
        s.get("/scim/ServiceProviderConfig", Some(&alice)),
        StatusCode::OK,
        "service provider config",
    );
    assert_eq!(
        spc["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    assert_eq!(spc["etag"]["supported"], true);
    assert_eq!(spc["changePassword"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], true);
    assert_eq!(spc["filter"]["maxResults"], 100);
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert!(
        spc["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with("/scim/ServiceProviderConfig")
    );

    let types = expect_scim(
        s.get("/scim/ResourceTypes", Some(&alice)),
        StatusCode::OK,
        "resource types",
    );
    assert_eq!(types["totalResults"], 2);
    let user_type = expect_scim(
        s.get("/scim/ResourceTypes/User", Some(&alice)),
        StatusCode::OK,
        "user type",
    );
    assert_eq!(user_type["endpoint"], "/Users");
    assert_eq!(user_type["schema"], CORE_USER);
    assert_eq!(user_type["schemaExtensions"][0]["schema"], INDIGO_USER);
    assert_eq!(types["Resources"][0], user_type);

    let schemas = expect_scim(
        s.get("/scim/Schemas", Some(&alice)),
        StatusCode::OK,
        "schemas",
    );
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [CORE_USER, CORE_GROUP, INDIGO_USER, INDIGO_GROUP]);
    for schema in schemas["Resources"].as_array().unwrap() {
        for a in schema["attributes"].as_array().unwrap() {
            for key in ["type", "multiValued", "required", "mutability", "returned"] {
                assert!(
                    a.get(key).is_some(),
                    "{}: {} lacks {key}",
                    schema["id"],
                    a["name"]
                );
            }
        }
    }
    let user = expect_scim(
        s.get(&format!("/scim/Schemas/{CORE_USER}"), Some(&alice)),
        StatusCode::OK,
        "user schema",
    );
    let username = attribute(&user, "userName");
    assert_eq!(username["uniqueness"], "server");
    assert_eq!(username["required"], true);
    assert_eq!(attribute(&user, "password")["returned"], "never");
    let emails = attribute(&user, "emails");
    assert_eq!(emails["multiValued"], true);
    assert_eq!(emails["subAttributes"][0]["name"], "value");
    // Only what the server stores: no middleName, no x509Certificates of the core schema.
    let name = attribute(&user, "name");
    let subs: Vec<&str> = name["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(subs, ["formatted", "familyName", "givenName"]);
    let indigo = expect_scim(
        s.get(&format!("/scim/Schemas/{INDIGO_USER}"), Some(&alice)),
        StatusCode::OK,
        "IndigoUser schema",
    );
    assert_eq!(
        attribute(&indigo, "oidcIds")["subAttributes"][1]["caseExact"],
        true
    );
}

#[test]
fn discovery_errors_are_scim_errors() {
    let s = Server::start();
    let admin = s.token("admin");
    expect_unauthorized(s.get("/scim/Schemas", None), "no token");
    expect_scim_error(
        s.get("/scim/Schemas/urn:nope", Some(&admin)),
        StatusCode::NOT_FOUND,
        "No schema with id 'urn:nope'",
        "unknown schema",
    );
    expect_scim_error(
        s.get("/scim/ResourceTypes/Widget", Some(&admin)),
        StatusCode::NOT_FOUND,
        "No resource type named 'Widget'",
        "unknown resource type",
    );
    for (method, path) in [
        (Method::POST, "/scim/ServiceProviderConfig"),
        (Method::DELETE, "/scim/Schemas"),
        (Method::PUT, "/scim/ResourceTypes/User"),
    ] {
        let r = s
            .req(method.clone(), path, Some(&admin))
            .header("content-type", SCIM)
            .body("{}")
            .send()
            .unwrap();
        expect_scim_error(
            r,
            StatusCode::METHOD_NOT_ALLOWED,
            "Request method not supported",
            &format!("{method} {path}"),
        );
    }
    expect_unauthorized(
        s.req(Method::POST, "/scim/Schemas", None).send().unwrap(),
        "wrong method without a token",
    );
    expect_scim_error(
        s.get("/scim/Schemas?filter=id%20pr", Some(&admin)),
        StatusCode::FORBIDDEN,
        "Filtering is not supported on discovery endpoints",
        "filter on discovery",
    );
}

#[test]
fn created_resources_have_a_location_and_a_version() {
    let s = Server::start();
    let admin = s.token("admin");
    let r = s.post_scim("/scim/Users", Some(&admin), &user_body("alice"));
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()[LOCATION].to_str().unwrap().to_string();
    let tag = etag(&r);
    let user = body(r);
    assert_eq!(user["meta"]["location"], location);
    assert_eq!(user["meta"]["version"], tag);
    assert!(tag.starts_with("W/\""), "weak: {tag}");
    let path = format!("/scim/{}", location.split_once("/scim/").unwrap().1);
    let r = s.get(&path, Some(&admin));
    assert_eq!(etag(&r), tag, "a read gives the same version");

    let r = s.post_scim("/scim/Groups", Some(&admin), &group_body("cms", None));
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()[LOCATION].to_str().unwrap().to_string();
    let group = body(r);
    assert_eq!(group["meta"]["location"], location);
    assert!(group["meta"]["version"].is_string());
}

#[test]
fn if_none_match_answers_304_until_the_resource_changes() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let path = format!("/scim/Users/{alice}");
    let tag = etag(&s.get(&path, Some(&admin)));
    let conditional = |tag: &str| {
        s.req(Method::GET, &path, Some(&admin))
            .header(IF_NONE_MATCH, tag)
            .send()
            .unwrap()
    };
    let r = conditional(&tag);
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(etag(&r), tag);
    assert!(r.text().unwrap().is_empty());
    assert_eq!(conditional("W/\"other\"").status(), StatusCode::OK);

    // A change the client could see gives a new version, even one that leaves
    // meta.lastModified alone (authorities are rendered when the operator shows them).
    let mut b = user_body("alice");
    b["nickName"] = json!("ali");
    expect_scim(
        s.put_scim(&path, Some(&admin), &b),
        StatusCode::OK,
        "replace",
    );
    let r = conditional(&tag);
    assert_eq!(r.status(), StatusCode::OK);
    let new_tag = etag(&r);
    assert_ne!(new_tag, tag);
    assert_eq!(body(r)["meta"]["version"], new_tag);

    // The list shows the same versions as single reads.
    let list = body(s.get("/scim/Users?count=100", Some(&admin)));
    let listed = list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == alice.as_str())
        .unwrap();
    assert_eq!(listed["meta"]["version"], new_tag);

    // /scim/Me and groups too.
    let me = s.token("alice");
    let tag = etag(&s.get("/scim/Me", Some(&me)));
    let r = s
        .req(Method::GET, "/scim/Me", Some(&me))
        .header(IF_NONE_MATCH, &tag)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let g = s.create_group(&admin, "cms");
    let gpath = format!("/scim/Groups/{g}");
    let tag = etag(&s.get(&gpath, Some(&admin)));
    let r = s
        .req(Method::GET, &gpath, Some(&admin))
        .header(IF_NONE_MATCH, format!("\"x\", {tag}"))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
}

#[test]
fn if_match_guards_every_write_and_a_stale_one_changes_nothing() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let path = format!("/scim/Users/{alice}");
    let tag = etag(&s.get(&path, Some(&admin)));
    let put = |tag: &str, nick: &str| {
        let mut b = user_body("alice");
        b["nickName"] = json!(nick);
        s.req(Method::PUT, &path, Some(&admin))
            .header("content-type", SCIM)
            .header(IF_MATCH, tag)
            .body(b.to_string())
            .send()
            .unwrap()
    };
    let r = put(&tag, "first");
    assert_eq!(r.status(), StatusCode::OK);
    let current = etag(&r);
    assert_eq!(body(r)["nickName"], "first");

    // Someone else's update came first: the old version is refused and nothing changes.
    expect_scim_error(
        put(&tag, "second"),
        StatusCode::PRECONDITION_FAILED,
        "The resource has changed: its version does not match If-Match",
        "stale PUT",
    );
    let now = s.get(&path, Some(&admin));
    assert_eq!(etag(&now), current);
    assert_eq!(body(now)["nickName"], "first");
    assert_eq!(put("*", "third").status(), StatusCode::OK, "* matches any");

    let delete = |tag: &str| {
        s.req(Method::DELETE, &path, Some(&admin))
            .header(IF_MATCH, tag)
            .send()
            .unwrap()
    };
    expect_scim_error(
        delete(&current),
        StatusCode::PRECONDITION_FAILED,
        "The resource has changed: its version does not match If-Match",
        "stale DELETE",
    );
    let current = etag(&s.get(&path, Some(&admin)));
    assert_eq!(delete(&current).status(), StatusCode::NO_CONTENT);
    expect_scim_error(
        delete(&current),
        StatusCode::NOT_FOUND,
        &format!("No user mapped to id '{alice}'"),
        "guarded delete of a deleted user",
    );

    // Groups: replace and membership PATCH.
    let bob = s.create_user(&admin, "bob");
    let g = s.create_group(&admin, "cms");
    let gpath = format!("/scim/Groups/{g}");
    let stale = etag(&s.get(&gpath, Some(&admin)));
    let r = s
        .req(Method::PUT, &gpath, Some(&admin))
        .header("content-type", SCIM)
        .header(IF_MATCH, &stale)
        .body(group_body("atlas", None).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "operations": [{"op": "add", "path": "members", "value": [{"value": bob}]}]
    });
    let r = s
        .req(Method::PATCH, &gpath, Some(&admin))
        .header("content-type", SCIM)
        .header(IF_MATCH, &stale)
        .body(patch.to_string())
        .send()
        .unwrap();
    expect_scim_error(
        r,
        StatusCode::PRECONDITION_FAILED,
        "The resource has changed: its version does not match If-Match",
        "stale group PATCH",
    );
    let members = body(s.get(&format!("{gpath}/members"), Some(&admin)));
    assert_eq!(members["totalResults"], 0, "nothing written");
    let r = s
        .req(Method::PATCH, &gpath, Some(&admin))
        .header("content-type", SCIM)
        .header(IF_MATCH, etag(&s.get(&gpath, Some(&admin))))
        .body(patch.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[test]
fn if_match_does_not_bypass_the_policy() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    s.create_user(&admin, "mallory");
    let mallory = s.token("mallory");
    let path = format!("/scim/Users/{alice}");
    // The version read on the caller's behalf must not run before the policy has decided.
    let r = s
        .req(Method::DELETE, &path, Some(&mallory))
        .header(IF_MATCH, "*")
        .send()
        .unwrap();
    expect_denied(r, "plain user with If-Match");
    assert_eq!(s.get(&path, Some(&admin)).status(), StatusCode::OK);
}

#[test]
fn single_resources_take_attributes_and_excluded_attributes() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let path = format!("/scim/Users/{alice}");
    let v = expect_scim(
        s.get(
            &format!("{path}?attributes=userName,emails.value"),
            Some(&admin),
        ),
        StatusCode::OK,
        "attributes",
    );
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["emails", "id", "schemas", "userName"]);
    let v = expect_scim(
        s.get(
            &format!("{path}?excludedAttributes=emails,{INDIGO_USER},id"),
            Some(&admin),
        ),
        StatusCode::OK,
        "excludedAttributes",
    );
    assert!(v.get("emails").is_none() && v.get(INDIGO_USER).is_none());
    assert_eq!(v["id"], alice.as_str(), "id is always returned");
    assert_eq!(v["userName"], "alice");
    let v = expect_scim(
        s.get(
            "/scim/Users?excludedAttributes=name.formatted,meta&count=100",
            Some(&admin),
        ),
        StatusCode::OK,
        "excludedAttributes on the list",
    );
    let first = &v["Resources"][0];
    assert!(first.get("meta").is_none());
    assert!(first["name"].get("formatted").is_none());
    assert!(first["name"]["givenName"].is_string());
    let r = s.post_scim(
        "/scim/Users?attributes=userName",
        Some(&admin),
        &user_body("bob"),
    );
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = body(r);
    assert_eq!(v["userName"], "bob");
    assert!(v.get("emails").is_none());
}

#[test]
fn conflicts_carry_the_uniqueness_scim_type() {
    let s = Server::start();
    let admin = s.token("admin");
    s.create_user(&admin, "alice");
    let r = s.post_scim("/scim/Users", Some(&admin), &user_body("alice"));
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let v = body(r);
    assert_eq!(v["scimType"], "uniqueness");
    assert_eq!(v["detail"], "A user with username 'alice' already exists");
    let mut b = user_body("carol");
    b["emails"] = json!([]);
    let v = body(s.post_scim("/scim/Users", Some(&admin), &b));
    assert_eq!(v["status"], "400");
    assert_eq!(v["scimType"], "invalidValue");
}

#[test]
fn application_json_bodies_only_when_the_operator_accepts_them() {
    let post = |s: &Server, token: &str, name: &str| {
        s.req(Method::POST, "/scim/Users", Some(token))
            .header("content-type", "application/json")
            .body(user_body(name).to_string())
            .send()
            .unwrap()
    };
    let s = Server::start();
    let admin = s.token("admin");
    expect_plain_error(
        post(&s, &admin, "alice"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "INDIGO IAM's 415 by default",
    );
    let s = Server::start_with_config("[scim]\naccept_application_json = true\n");
    let admin = s.token("admin");
    assert_eq!(post(&s, &admin, "alice").status(), StatusCode::CREATED);
}

/// Provisioning clients remove one member with a value filter in the path
/// (`members[value eq "<id>"]`) and capitalize their operations.
#[test]
fn group_members_are_removed_by_a_value_filter_path() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let bob = s.create_user(&admin, "bob");
    let carol = s.create_user(&admin, "carol");
    let g = s.create_group(&admin, "cms");
    let path = format!("/scim/Groups/{g}");
    let patch = |ops: Value| {
        s.patch_scim(
            &path,
            Some(&admin),
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}),
        )
    };
    let members = || {
        let v = body(s.get(&format!("{path}/members"), Some(&admin)));
        let mut ids: Vec<String> = v["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["value"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let r = patch(json!([{"op": "Add", "path": "members",
                          "value": [{"value": alice}, {"value": bob}, {"value": carol}]}]));
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = patch(json!([{"op": "Remove", "path": format!("members[value eq \"{bob}\"]")}]));
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let mut expected = vec![alice.clone(), carol.clone()];
    expected.sort();
    assert_eq!(members(), expected);
    let r = patch(json!([{"op": "remove",
        "path": format!("members[value eq \"{alice}\" or value eq \"{carol}\"]")}]));
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(members().is_empty());
    let r = patch(json!([{"op": "remove", "path": "members[display co \"x\"]"}]));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(r)["scimType"], "invalidFilter");
}
