//! `/scim/Users` and `/scim/Groups` basics (docs/api.md §4.1–4.5, §10.1–10.4;
//! the `roles` policy of docs/api.md §2), tested black-box against the real server.

use iam_tests::*;
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const INDIGO_GROUP: &str = "urn:indigo-dc:scim:schemas:IndigoGroup";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// `2026-01-31T10:00:00.000Z`
fn assert_iso_millis(s: &Value, what: &str) {
    let s = s
        .as_str()
        .unwrap_or_else(|| panic!("{what}: not a string: {s}"));
    let b = s.as_bytes();
    let ok = b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    assert!(ok, "{what}: {s:?} is not ISO-8601 UTC with milliseconds");
}

fn post_json(
    server: &Server,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> Response {
    server.send_raw(Method::POST, path, token, Some(content_type), body)
}

fn get_accept(server: &Server, path: &str, token: Option<&str>, accept: &str) -> Response {
    server
        .req(Method::GET, path, token)
        .header("accept", accept)
        .send()
        .unwrap()
}

fn user_with(username: &str, email: &str) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": username,
        "active": true,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"type": "work", "value": email, "primary": true}]
    })
}

fn ids(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("no Resources: {list}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Users

#[test]
fn create_user_returns_the_full_scim_user() {
    let s = Server::start();
    let admin = s.token("admin");
    let body = json!({
        "schemas": [USER_SCHEMA],
        "userName": "alice",
        "active": true,
        "password": "a-secret-password",
        "name": {"givenName": "Alice", "familyName": "Liddell"},
        "emails": [{"type": "work", "value": "alice@example.org", "primary": true}]
    });
    let r = s.post_scim("/scim/Users", Some(&admin), &body);
    let u = expect_scim(r, StatusCode::CREATED, "POST user");

    let id = u["id"].as_str().expect("id");
    uuid::Uuid::parse_str(id).expect("id is a UUID");
    assert_eq!(u["userName"], "alice");
    assert_eq!(u["displayName"], "alice");
    assert_eq!(u["active"], true);
    assert_eq!(
        u["name"],
        json!({"givenName": "Alice", "familyName": "Liddell", "formatted": "Alice Liddell"})
    );
    assert_eq!(
        u["emails"],
        json!([{"type": "work", "value": "alice@example.org", "primary": true}])
    );
    let mut schemas: Vec<&str> = u["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    schemas.sort();
    assert_eq!(schemas, [USER_SCHEMA, INDIGO_USER]);
    assert_eq!(u["meta"]["resourceType"], "User");
    assert_eq!(
        u["meta"]["location"],
        json!(format!("{}/scim/Users/{id}", s.base))
    );
    assert_iso_millis(&u["meta"]["created"], "meta.created");
    assert_iso_millis(&u["meta"]["lastModified"], "meta.lastModified");
    assert_eq!(u[INDIGO_USER]["serviceAccount"], false);

    // Never rendered: the password; NON_EMPTY: no empty groups, no nulls.
    let text = u.to_string();
    assert!(
        !text.contains("password") && !text.contains("a-secret-password"),
        "{text}"
    );
    assert!(u.get("groups").is_none(), "no groups yet: {u}");
    fn no_nulls(v: &Value, at: &str) {
        match v {
            Value::Null => panic!("null at {at}"),
            Value::Object(m) => m
                .iter()
                .for_each(|(k, v)| no_nulls(v, &format!("{at}.{k}"))),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, v)| no_nulls(v, &format!("{at}[{i}]"))),
            _ => {}
        }
    }
    no_nulls(&u, "user");

    // GET returns the same representation.
    let got = expect_scim(
        s.get(&format!("/scim/Users/{id}"), Some(&admin)),
        StatusCode::OK,
        "GET user",
    );
    assert_eq!(got, u);
}

#[test]
fn create_user_active_defaults_to_false_and_payload_id_is_used() {
    let s = Server::start();
    let admin = s.token("admin");

    let mut body = user_with("absent", "absent@example.org");
    body.as_object_mut().unwrap().remove("active");
    let u = expect_scim(
        s.post_scim("/scim/Users", Some(&admin), &body),
        StatusCode::CREATED,
        "no active",
    );
    assert_eq!(
        u["active"], false,
        "`active` absent → false (and rendered): {u}"
    );

    let mut body = user_with("inactive", "inactive@example.org");
    body["active"] = json!(false);
    let u = expect_scim(
        s.post_scim("/scim/Users", Some(&admin), &body),
        StatusCode::CREATED,
        "active false",
    );
    assert_eq!(u["active"], false);

    let wanted = "0f2d6a1e-5c3b-4e8f-9a7d-1b2c3d4e5f60";
    let mut body = user_with("withid", "withid@example.org");
    body["id"] = json!(wanted);
    let u = expect_scim(
        s.post_scim("/scim/Users", Some(&admin), &body),
        StatusCode::CREATED,
        "with id",
    );
    // RFC 7643 §3.1 (where INDIGO IAM takes the body's id): the server issues the id.
    assert_ne!(u["id"], wanted);
    let got = expect_scim(
        s.get(
            &format!("/scim/Users/{}", u["id"].as_str().unwrap()),
            Some(&admin),
        ),
        StatusCode::OK,
        "GET by id",
    );
    assert_eq!(got["userName"], "withid");
}

#[test]
fn create_user_validation_errors_are_scim_errors() {
    let s = Server::start();
    let admin = s.token("admin");
    let post = |body: &Value| s.post_scim("/scim/Users", Some(&admin), body);
    let invalid = |body: Value, parts: &[&str]| {
        let d = scim_error_detail(
            post(&body),
            StatusCode::BAD_REQUEST,
            &format!("POST {body}"),
        );
        assert!(d.starts_with("Invalid Scim User: ["), "{body}: {d}");
        for p in parts {
            assert!(d.contains(p), "{body}: {d:?} lacks {p:?}");
        }
    };

    // userName
    let mut b = user_with("x", "x@example.org");
    b.as_object_mut().unwrap().remove("userName");
    expect_scim_error(
        post(&b),
        StatusCode::BAD_REQUEST,
        "Invalid Scim User: [scimUser.userName : must not be blank]",
        "missing userName",
    );
    invalid(
        user_with("", "x@example.org"),
        &["[scimUser.userName : must not be blank]"],
    );
    invalid(
        user_with("   ", "x@example.org"),
        &["[scimUser.userName : must not be blank]"],
    );
    invalid(
        user_with(&"u".repeat(129), "x@example.org"),
        &["scimUser.userName"],
    );

    // emails
    let mut b = user_with("x", "x@example.org");
    b.as_object_mut().unwrap().remove("emails");
    invalid(b, &["[scimUser.emails : must not be empty]"]);
    let mut b = user_with("x", "x@example.org");
    b["emails"] = json!([]);
    invalid(b, &["[scimUser.emails : must not be empty]"]);
    for bad in ["not-an-email", "a@", "@example.org", "a b@example.org", ""] {
        invalid(
            user_with("x", bad),
            &["Please provide a valid email address"],
        );
    }
    let long = format!("{}@example.org", "e".repeat(120));
    invalid(
        user_with("x", &long),
        &["Please provide a valid email address"],
    );
    let mut b = user_with("x", "x@example.org");
    b["emails"][0].as_object_mut().unwrap().remove("type");
    invalid(b, &["type"]);
    let mut b = user_with("x", "x@example.org");
    b["emails"][0].as_object_mut().unwrap().remove("primary");
    invalid(b, &["primary"]);

    // name
    let mut b = user_with("x", "x@example.org");
    b["name"].as_object_mut().unwrap().remove("givenName");
    invalid(b, &["scimUser.name.givenName"]);
    let mut b = user_with("x", "x@example.org");
    b["name"].as_object_mut().unwrap().remove("familyName");
    invalid(b, &["scimUser.name.familyName"]);
    let mut b = user_with("x", "x@example.org");
    b.as_object_mut().unwrap().remove("name");
    invalid(b, &[]);
    let long_name = "g".repeat(65);
    for bad in ["A", long_name.as_str(), "a<b", "a>b", "a%b", "a$b"] {
        let mut b = user_with("x", "x@example.org");
        b["name"]["givenName"] = json!(bad);
        invalid(b, &["scimUser.name.givenName"]);
    }

    // Several violations are all reported.
    invalid(
        json!({"schemas": [USER_SCHEMA], "emails": [{"type": "work", "value": "bad", "primary": true}]}),
        &[
            "[scimUser.userName : must not be blank]",
            "Please provide a valid email address",
        ],
    );

    // Nothing was created: only the admin exists.
    let list = expect_scim(s.get("/scim/Users", Some(&admin)), StatusCode::OK, "list");
    assert_eq!(list["totalResults"], 1, "{list}");

    // The limits themselves are fine.
    let mut b = user_with(&"u".repeat(128), "limits@example.org");
    b["name"] = json!({"givenName": "Al", "familyName": "f".repeat(64)});
    expect_scim(post(&b), StatusCode::CREATED, "limits");
}

#[test]
fn create_user_needs_scim_json_and_a_readable_body() {
    let s = Server::start();
    let admin = s.token("admin");
    let body = user_with("alice", "alice@example.org").to_string();
    for ct in ["application/json", "text/plain"] {
        expect_plain_error(
            post_json(&s, "/scim/Users", Some(&admin), ct, &body),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ct,
        );
    }
    let r = s
        .req(Method::POST, "/scim/Users", Some(&admin))
        .body(body.clone())
        .send()
        .unwrap();
    expect_plain_error(r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "no content type");
    for bad in ["{", "", "[]", "not json"] {
        expect_plain_error(
            post_json(&s, "/scim/Users", Some(&admin), SCIM, bad),
            StatusCode::BAD_REQUEST,
            bad,
        );
    }
    // With parameters it is still SCIM JSON.
    expect_scim(
        post_json(
            &s,
            "/scim/Users",
            Some(&admin),
            "application/scim+json;charset=UTF-8",
            &body,
        ),
        StatusCode::CREATED,
        "scim json with charset",
    );
}

#[test]
fn duplicate_username_and_email_are_409() {
    let s = Server::start();
    let admin = s.token("admin");
    s.create_user(&admin, "alice");

    expect_scim_error(
        s.post_scim(
            "/scim/Users",
            Some(&admin),
            &user_with("alice", "other@example.org"),
        ),
        StatusCode::CONFLICT,
        "A user with username 'alice' already exists",
        "duplicate username",
    );
    expect_scim_error(
        s.post_scim(
            "/scim/Users",
            Some(&admin),
            &user_with("bob", "alice@example.org"),
        ),
        StatusCode::CONFLICT,
        "A user linked with email 'alice@example.org' already exists",
        "duplicate email",
    );
    let list = expect_scim(s.get("/scim/Users", Some(&admin)), StatusCode::OK, "list");
    assert_eq!(list["totalResults"], 2, "{list}");

    // Once deleted, the username and the address are free again.
    let alice = s.user_id(&admin, "alice");
    expect(
        s.delete(&format!("/scim/Users/{alice}"), Some(&admin)),
        StatusCode::NO_CONTENT,
        "delete alice",
    );
    let again = s.create_user(&admin, "alice");
    assert_ne!(again, alice);
}

#[test]
fn get_and_delete_user() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let bob = s.create_user(&admin, "bob");

    for id in [UNKNOWN_ID, "not-a-uuid"] {
        expect_scim_error(
            s.get(&format!("/scim/Users/{id}"), Some(&admin)),
            StatusCode::NOT_FOUND,
            &format!("No user mapped to id '{id}'"),
            "GET unknown",
        );
        expect_scim_error(
            s.delete(&format!("/scim/Users/{id}"), Some(&admin)),
            StatusCode::NOT_FOUND,
            &format!("No user mapped to id '{id}'"),
            "DELETE unknown",
        );
    }

    let text = expect(
        s.delete(&format!("/scim/Users/{alice}"), Some(&admin)),
        StatusCode::NO_CONTENT,
        "DELETE",
    );
    assert!(text.is_empty());
    expect_scim_error(
        s.get(&format!("/scim/Users/{alice}"), Some(&admin)),
        StatusCode::NOT_FOUND,
        &format!("No user mapped to id '{alice}'"),
        "GET deleted",
    );
    expect_scim_error(
        s.delete(&format!("/scim/Users/{alice}"), Some(&admin)),
        StatusCode::NOT_FOUND,
        &format!("No user mapped to id '{alice}'"),
        "DELETE again",
    );
    // Bob is still there and the list lost alice.
    expect_scim(
        s.get(&format!("/scim/Users/{bob}"), Some(&admin)),
        StatusCode::OK,
        "GET bob",
    );
    let list = expect_scim(s.get("/scim/Users", Some(&admin)), StatusCode::OK, "list");
    assert_eq!(list["totalResults"], 2);
    assert!(!ids(&list).contains(&alice));
    assert!(ids(&list).contains(&bob));
}

#[test]
fn new_users_join_the_configured_default_groups() {
    let s = Server::start_with_config(
        "[registration]\ndefault_groups = [{ name = \"parent/child\", enrollment = \"INSERT\" }, \"later\"]\n",
    );
    let admin = s.token("admin");
    // Configured groups that do not exist are named at start and skipped.
    assert!(
        s.log().contains("default group does not exist") && s.log().contains("later"),
        "{}",
        s.log()
    );
    let alice = s.create_user(&admin, "alice");
    let user = expect_scim(
        s.get(&format!("/scim/Users/{alice}"), Some(&admin)),
        StatusCode::OK,
        "alice",
    );
    assert!(user.get("groups").is_none(), "{user}");

    let parent = s.create_group(&admin, "parent");
    let r = s.post_scim(
        "/scim/Groups",
        Some(&admin),
        &group_body("child", Some((&parent, "parent"))),
    );
    let child = expect_scim(r, StatusCode::CREATED, "child")["id"].clone();
    // Joining "parent/child" joins its parent too, as any membership does.
    let r = s.post_scim("/scim/Users", Some(&admin), &user_body("bob"));
    let bob = expect_scim(r, StatusCode::CREATED, "bob");
    let groups: Vec<(Value, Value)> = bob["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["display"].clone(), g["value"].clone()))
        .collect();
    assert_eq!(
        groups,
        [
            (json!("parent"), json!(parent)),
            (json!("parent/child"), child)
        ]
    );
}

#[test]
fn profile_fields_are_kept_and_rendered() {
    let s = Server::start();
    let admin = s.token("admin");
    let mut body = user_with("alice", "alice@example.org");
    body["nickName"] = json!("ali");
    body["profileUrl"] = json!("https://example.org/~alice");
    body["locale"] = json!("it_IT");
    body["timezone"] = json!("Europe/Rome");
    // IAM keeps one picture and one address: the first of each.
    body["photos"] = json!([
        {"value": "https://example.org/alice.png", "type": "photo"},
        {"value": "https://example.org/other.png"}
    ]);
    body["addresses"] = json!([
        {"streetAddress": "Viale Berti Pichat 6/2", "locality": "Bologna", "postalCode": "40127",
         "country": "IT", "type": "work"},
        {"locality": "elsewhere"}
    ]);
    let created = expect_scim(
        s.post_scim("/scim/Users", Some(&admin), &body),
        StatusCode::CREATED,
        "create",
    );
    let id = created["id"].as_str().unwrap().to_string();
    let fetched = expect_scim(
        s.get(&format!("/scim/Users/{id}"), Some(&admin)),
        StatusCode::OK,
        "get",
    );
    for user in [&created, &fetched] {
        assert_eq!(user["nickName"], "ali");
        assert_eq!(user["profileUrl"], "https://example.org/~alice");
        assert_eq!(user["locale"], "it_IT");
        assert_eq!(user["timezone"], "Europe/Rome");
        assert_eq!(
            user["photos"],
            json!([{"value": "https://example.org/alice.png", "type": "photo"}])
        );
        assert_eq!(
            user["addresses"],
            json!([{"streetAddress": "Viale Berti Pichat 6/2", "locality": "Bologna",
                    "postalCode": "40127", "country": "IT"}])
        );
    }

    // Account search shows the photo, not the rest of the profile.
    let found = expect_json(
        s.get("/iam/account/search?filter=alice", Some(&admin)),
        StatusCode::OK,
        "search",
    );
    let hit = &found["Resources"][0];
    assert_eq!(hit["photos"][0]["value"], "https://example.org/alice.png");
    assert!(
        hit.get("nickName").is_none() && hit.get("addresses").is_none(),
        "{hit}"
    );

    // PUT replaces the profile: what the new body leaves out is gone.
    let mut replacement = user_with("alice", "alice@example.org");
    replacement["nickName"] = json!("al");
    let r = s
        .req(Method::PUT, &format!("/scim/Users/{id}"), Some(&admin))
        .header("content-type", SCIM)
        .body(replacement.to_string())
        .send()
        .unwrap();
    let replaced = expect_scim(r, StatusCode::OK, "replace");
    assert_eq!(replaced["nickName"], "al");
    for gone in ["profileUrl", "locale", "timezone", "photos", "addresses"] {
        assert!(replaced.get(gone).is_none(), "{gone}: {replaced}");
    }

    // Wrong shapes are a 400, and nothing is created.
    for (key, value) in [
        ("nickName", json!({"a": 1})),
        ("photos", json!("https://example.org/p.png")),
        ("photos", json!(["https://example.org/p.png"])),
        ("addresses", json!({"locality": "x"})),
    ] {
        let mut bad = user_with("bob", "bob@example.org");
        bad[key] = value.clone();
        let r = s.post_scim("/scim/Users", Some(&admin), &bad);
        expect_plain_error(r, StatusCode::BAD_REQUEST, &format!("{key}: {value}"));
    }
    let list = expect_scim(s.get("/scim/Users", Some(&admin)), StatusCode::OK, "list");
    assert_eq!(list["totalResults"], 2, "admin and alice only");
}

#[test]
fn scim_gets_refuse_an_unacceptable_accept_header() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let group = s.create_group(&admin, "g");
    let paths = [
        "/scim/Users".to_string(),
        format!("/scim/Users/{alice}"),
        "/scim/Groups".to_string(),
        format!("/scim/Groups/{group}"),
    ];
    for p in &paths {
        for bad in ["application/json", "text/html", "application/xml"] {
            expect_plain_error(
                get_accept(&s, p, Some(&admin), bad),
                StatusCode::NOT_ACCEPTABLE,
                &format!("{p} {bad}"),
            );
        }
        for good in [
            "*/*",
            "application/*",
            "application/scim+json",
            "application/json, application/scim+json",
        ] {
            expect_scim(
                get_accept(&s, p, Some(&admin), good),
                StatusCode::OK,
                &format!("{p} {good}"),
            );
        }
    }
}

#[test]
fn list_users_paging() {
    let s = Server::start();
    let admin = s.token("admin");
    let admin_id = s.user_id(&admin, "admin");
    let mut created = vec![admin_id];
    for u in ["u1", "u2", "u3", "u4"] {
        created.push(s.create_user(&admin, u));
    }
    let list = |q: &str| {
        expect_scim(
            s.get(&format!("/scim/Users{q}"), Some(&admin)),
            StatusCode::OK,
            q,
        )
    };

    // Default: everything, in creation order.
    let all = list("");
    assert_eq!(all["totalResults"], 5);
    assert_eq!(all["itemsPerPage"], 5);
    assert_eq!(all["startIndex"], 1);
    assert_eq!(all["schemas"], json!([LIST_SCHEMA]));
    assert_eq!(ids(&all), created);
    let mut keys: Vec<&str> = all
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "Resources",
            "itemsPerPage",
            "schemas",
            "startIndex",
            "totalResults"
        ]
    );
    // Items are full users.
    assert_eq!(all["Resources"][1]["userName"], "u1");
    assert_eq!(all["Resources"][1]["meta"]["resourceType"], "User");

    let page = list("?count=2");
    assert_eq!(
        (
            page["totalResults"].clone(),
            page["itemsPerPage"].clone(),
            page["startIndex"].clone()
        ),
        (json!(5), json!(2), json!(1))
    );
    assert_eq!(ids(&page), created[0..2]);
    let page = list("?startIndex=2&count=2");
    assert_eq!(page["startIndex"], 2);
    assert_eq!(ids(&page), created[1..3]);
    let page = list("?startIndex=4&count=10");
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(ids(&page), created[3..5]);

    // count=0 (and negative counts, which mean 0): the count only.
    for q in ["?count=0", "?count=-3", "?count=0&startIndex=3"] {
        assert_eq!(
            list(q),
            json!({"totalResults": 5, "Resources": [], "schemas": [LIST_SCHEMA]}),
            "{q}"
        );
    }

    // Past the end: nothing, with the start index echoed.
    let past = list("?startIndex=50");
    assert_eq!(
        past,
        json!({"totalResults": 5, "itemsPerPage": 0, "startIndex": 50, "Resources": [], "schemas": [LIST_SCHEMA]})
    );

    // startIndex below 1 means 1.
    for q in ["?startIndex=0", "?startIndex=-7"] {
        let page = list(q);
        assert_eq!(page["startIndex"], 1, "{q}");
        assert_eq!(ids(&page), created, "{q}");
    }

    // Non-integer parameters are a 400.
    for q in ["?count=abc", "?startIndex=abc", "?count=1.5", "?count="] {
        expect_plain_error(
            s.get(&format!("/scim/Users{q}"), Some(&admin)),
            StatusCode::BAD_REQUEST,
            q,
        );
    }
}

#[test]
fn list_users_count_is_capped_at_100() {
    let s = Server::start();
    let admin = s.token("admin");
    for i in 0..101 {
        s.create_user(&admin, &format!("user{i:03}"));
    }
    let list = |q: &str| {
        expect_scim(
            s.get(&format!("/scim/Users{q}"), Some(&admin)),
            StatusCode::OK,
            q,
        )
    };
    for q in ["", "?count=1000", "?count=101"] {
        let page = list(q);
        assert_eq!(page["totalResults"], 102, "{q}");
        assert_eq!(page["itemsPerPage"], 100, "{q}");
        assert_eq!(page["Resources"].as_array().unwrap().len(), 100, "{q}");
    }
    let tail = list("?startIndex=101");
    assert_eq!(tail["itemsPerPage"], 2);
    assert_eq!(tail["Resources"][1]["userName"], "user100");
}

// ---------------------------------------------------------------------------------------------
// Groups

#[test]
fn create_group_returns_the_scim_group() {
    let s = Server::start();
    let admin = s.token("admin");
    let r = s.post_scim(
        "/scim/Groups",
        Some(&admin),
        &group_body("Production", None),
    );
    let g = expect_scim(r, StatusCode::CREATED, "POST group");
    let id = g["id"].as_str().unwrap().to_string();
    uuid::Uuid::parse_str(&id).expect("id is a UUID");
    assert_eq!(g["displayName"], "Production");
    assert_eq!(g["meta"]["resourceType"], "Group");
    assert_eq!(
        g["meta"]["location"],
        json!(format!("{}/scim/Groups/{id}", s.base))
    );
    assert_iso_millis(&g["meta"]["created"], "meta.created");
    assert_iso_millis(&g["meta"]["lastModified"], "meta.lastModified");
    let mut schemas: Vec<&str> = g["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    schemas.sort();
    assert_eq!(schemas, [GROUP_SCHEMA, INDIGO_GROUP]);
    // The extension is always there, with its null members written.
    assert_eq!(
        g[INDIGO_GROUP],
        json!({"parentGroup": null, "description": null, "labels": null})
    );
    assert!(
        g.get("members").is_none(),
        "members are never rendered: {g}"
    );

    let got = expect_scim(
        s.get(&format!("/scim/Groups/{id}"), Some(&admin)),
        StatusCode::OK,
        "GET group",
    );
    assert_eq!(got, g);
}

#[test]
fn create_group_validation() {
    let s = Server::start();
    let admin = s.token("admin");
    let post = |body: &Value| s.post_scim("/scim/Groups", Some(&admin), body);
    let blank = "Invalid Scim Group: [scimGroup.displayName : must not be blank]";

    expect_scim_error(
        post(&group_body("", None)),
        StatusCode::BAD_REQUEST,
        blank,
        "empty",
    );
    expect_scim_error(
        post(&group_body("   ", None)),
        StatusCode::BAD_REQUEST,
        blank,
        "spaces",
    );
    expect_scim_error(
        post(&json!({"schemas": [GROUP_SCHEMA]})),
        StatusCode::BAD_REQUEST,
        blank,
        "missing",
    );
    expect_scim_error(
        post(&json!({"schemas": [GROUP_SCHEMA], "displayName": null})),
        StatusCode::BAD_REQUEST,
        blank,
        "null",
    );
    for bad in ["a/b", "/", "a/", "/a"] {
        expect_scim_error(
            post(&group_body(bad, None)),
            StatusCode::BAD_REQUEST,
            "Group displayName cannot contain a slash character",
            bad,
        );
    }
    expect_scim_error(
        post(&group_body(&"g".repeat(51), None)),
        StatusCode::BAD_REQUEST,
        "Group name length cannot exceed 50 characters",
        "51 chars",
    );
    let list = expect_scim(s.get("/scim/Groups", Some(&admin)), StatusCode::OK, "list");
    assert_eq!(list["totalResults"], 0, "nothing created: {list}");

    // 50 is fine; duplicates are 409.
    s.create_group(&admin, &"g".repeat(50));
    s.create_group(&admin, "dup");
    expect_scim_error(
        post(&group_body("dup", None)),
        StatusCode::CONFLICT,
        "Duplicated group 'dup'",
        "duplicate",
    );

    // Content type and body.
    let body = group_body("other", None).to_string();
    expect_plain_error(
        post_json(&s, "/scim/Groups", Some(&admin), "application/json", &body),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "json content type",
    );
    expect_plain_error(
        post_json(&s, "/scim/Groups", Some(&admin), SCIM, "{"),
        StatusCode::BAD_REQUEST,
        "malformed",
    );
}

#[test]
fn subgroups() {
    let s = Server::start();
    let admin = s.token("admin");
    let parent = s.create_group(&admin, "parent");

    let r = s.post_scim(
        "/scim/Groups",
        Some(&admin),
        &group_body("child", Some((&parent, "parent"))),
    );
    let child = expect_scim(r, StatusCode::CREATED, "child");
    assert_eq!(child["displayName"], "parent/child");
    assert_eq!(
        child[INDIGO_GROUP]["parentGroup"],
        json!({"display": "parent", "value": parent, "$ref": format!("{}/scim/Groups/{parent}", s.base)})
    );
    let child_id = child["id"].as_str().unwrap().to_string();
    let got = expect_scim(
        s.get(&format!("/scim/Groups/{child_id}"), Some(&admin)),
        StatusCode::OK,
        "GET child",
    );
    assert_eq!(got, child);

    // Grandchild: the full path.
    let r = s.post_scim(
        "/scim/Groups",
        Some(&admin),
        &group_body("grand", Some((&child_id, "parent/child"))),
    );
    let grand = expect_scim(r, StatusCode::CREATED, "grandchild");
    assert_eq!(grand["displayName"], "parent/child/grand");

    // Unique by full name: the same child twice is 409, the same segment elsewhere is fine.
    expect_scim_error(
        s.post_scim(
            "/scim/Groups",
            Some(&admin),
            &group_body("child", Some((&parent, "parent"))),
        ),
        StatusCode::CONFLICT,
        "Duplicated group 'parent/child'",
        "duplicate child",
    );
    s.create_group(&admin, "child");
    let other = s.create_group(&admin, "other");
    let r = s.post_scim(
        "/scim/Groups",
        Some(&admin),
        &group_body("child", Some((&other, "other"))),
    );
    assert_eq!(
        expect_scim(r, StatusCode::CREATED, "other/child")["displayName"],
        "other/child"
    );

    // Unknown parent.
    expect_scim_error(
        s.post_scim(
            "/scim/Groups",
            Some(&admin),
            &group_body("x", Some((UNKNOWN_ID, "nope"))),
        ),
        StatusCode::NOT_FOUND,
        &format!("Parent group '{UNKNOWN_ID}' not found"),
        "unknown parent",
    );

    // The segment rules apply to subgroups too.
    expect_scim_error(
        s.post_scim(
            "/scim/Groups",
            Some(&admin),
            &group_body("a/b", Some((&parent, "parent"))),
        ),
        StatusCode::BAD_REQUEST,
        "Group displayName cannot contain a slash character",
        "slash in child",
    );
    expect_scim_error(
        s.post_scim(
            "/scim/Groups",
            Some(&admin),
            &group_body(&"c".repeat(51), Some((&parent, "parent"))),
        ),
        StatusCode::BAD_REQUEST,
        "Group name length cannot exceed 50 characters",
        "long child",
    );

    // IAM builds the name from the request's parentGroup.display, not the stored name.
    let r = s.post_scim(
        "/scim/Groups",
        Some(&admin),
        &group_body("kid", Some((&parent, "Renamed"))),
    );
    assert_eq!(
        expect_scim(r, StatusCode::CREATED, "display from request")["displayName"],
        "Renamed/kid"
    );
}

#[test]
fn get_list_and_delete_groups() {
    let s = Server::start();
    let admin = s.token("admin");
    let a = s.create_group(&admin, "a");
    let b = s.create_group(&admin, "b");
    let r = s.post_scim(
        "/scim/Groups",
        Some(&admin),
        &group_body("c", Some((&a, "a"))),
    );
    let c = expect_scim(r, StatusCode::CREATED, "a/c")["id"]
        .as_str()
        .unwrap()
        .to_string();

    for id in [UNKNOWN_ID, "not-a-uuid"] {
        expect_scim_error(
            s.get(&format!("/scim/Groups/{id}"), Some(&admin)),
            StatusCode::NOT_FOUND,
            &format!("No group mapped to id '{id}'"),
            "GET unknown",
        );
        expect_scim_error(
            s.delete(&format!("/scim/Groups/{id}"), Some(&admin)),
            StatusCode::NOT_FOUND,
            &format!("No group mapped to id '{id}'"),
            "DELETE unknown",
        );
    }

    let list = |q: &str| {
        expect_scim(
            s.get(&format!("/scim/Groups{q}"), Some(&admin)),
            StatusCode::OK,
            q,
        )
    };
    let all = list("");
    assert_eq!(all["totalResults"], 3);
    assert_eq!(all["itemsPerPage"], 3);
    assert_eq!(all["startIndex"], 1);
    assert_eq!(all["schemas"], json!([LIST_SCHEMA]));
    assert_eq!(ids(&all), [a.clone(), b.clone(), c.clone()]);
    assert_eq!(all["Resources"][2]["displayName"], "a/c");
    assert_eq!(all["Resources"][2]["meta"]["resourceType"], "Group");
    let page = list("?startIndex=2&count=1");
    assert_eq!(
        (page["itemsPerPage"].clone(), page["startIndex"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(ids(&page), std::slice::from_ref(&b));
    assert_eq!(
        list("?count=0"),
        json!({"totalResults": 3, "Resources": [], "schemas": [LIST_SCHEMA]})
    );
    assert_eq!(
        list("?startIndex=9"),
        json!({"totalResults": 3, "itemsPerPage": 0, "startIndex": 9, "Resources": [], "schemas": [LIST_SCHEMA]})
    );
    for q in ["?count=x", "?startIndex=x"] {
        expect_plain_error(
            s.get(&format!("/scim/Groups{q}"), Some(&admin)),
            StatusCode::BAD_REQUEST,
            q,
        );
    }

    // A group with a subgroup is not empty.
    expect_scim_error(
        s.delete(&format!("/scim/Groups/{a}"), Some(&admin)),
        StatusCode::BAD_REQUEST,
        "Group is not empty",
        "DELETE parent",
    );
    expect_scim(
        s.get(&format!("/scim/Groups/{a}"), Some(&admin)),
        StatusCode::OK,
        "parent still there",
    );

    let text = expect(
        s.delete(&format!("/scim/Groups/{c}"), Some(&admin)),
        StatusCode::NO_CONTENT,
        "DELETE child",
    );
    assert!(text.is_empty());
    expect(
        s.delete(&format!("/scim/Groups/{a}"), Some(&admin)),
        StatusCode::NO_CONTENT,
        "DELETE emptied parent",
    );
    for id in [&a, &c] {
        expect_scim_error(
            s.get(&format!("/scim/Groups/{id}"), Some(&admin)),
            StatusCode::NOT_FOUND,
            &format!("No group mapped to id '{id}'"),
            "GET deleted",
        );
    }
    expect_scim_error(
        s.delete(&format!("/scim/Groups/{a}"), Some(&admin)),
        StatusCode::NOT_FOUND,
        &format!("No group mapped to id '{a}'"),
        "DELETE again",
    );
    assert_eq!(ids(&list("")), std::slice::from_ref(&b));

    // The name is free again.
    s.create_group(&admin, "a");
}

#[test]
fn users_and_groups_survive_a_restart() {
    let mut s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let g = s.create_group(&admin, "g");
    let user = expect_scim(
        s.get(&format!("/scim/Users/{alice}"), Some(&admin)),
        StatusCode::OK,
        "user",
    );
    let group = expect_scim(
        s.get(&format!("/scim/Groups/{g}"), Some(&admin)),
        StatusCode::OK,
        "group",
    );
    s.restart();
    assert_eq!(
        expect_scim(
            s.get(&format!("/scim/Users/{alice}"), Some(&admin)),
            StatusCode::OK,
            "user"
        ),
        user
    );
    assert_eq!(
        expect_scim(
            s.get(&format!("/scim/Groups/{g}"), Some(&admin)),
            StatusCode::OK,
            "group"
        ),
        group
    );
    expect_scim_error(
        s.post_scim("/scim/Users", Some(&admin), &user_body("alice")),
        StatusCode::CONFLICT,
        "A user with username 'alice' already exists",
        "dup after restart",
    );
}

// ---------------------------------------------------------------------------------------------
// Refusals (who may read and write: authorization_matrix.rs)

/// 401 before everything, even a bad `Accept`, parameter or body; an unreadable body (400)
/// before 403; 403 before validation and lookups (404, 409). There is no self rule: a user
/// may not delete his own SCIM user.
#[test]
fn user_refusals_come_first() {
    let s = Server::start();
    let admin = s.token("admin");
    let bob = s.create_user(&admin, "bob");
    s.create_user(&admin, "alice");
    let plain = s.token("bob");

    expect_denied(
        s.delete(&format!("/scim/Users/{bob}"), Some(&plain)),
        "bob deletes himself",
    );
    expect_denied(
        s.get(&format!("/scim/Users/{UNKNOWN_ID}"), Some(&plain)),
        "plain unknown",
    );
    expect_unauthorized(
        s.get(&format!("/scim/Users/{UNKNOWN_ID}"), None),
        "anonymous unknown",
    );
    expect_unauthorized(
        get_accept(&s, "/scim/Users", None, "application/json"),
        "anonymous bad accept",
    );
    expect_unauthorized(s.get("/scim/Users?count=abc", None), "anonymous bad count");
    expect_unauthorized(
        post_json(&s, "/scim/Users", None, SCIM, "{"),
        "anonymous malformed",
    );
    expect_unauthorized(
        post_json(&s, "/scim/Users", None, "application/json", "{}"),
        "anonymous bad type",
    );
    expect_plain_error(
        post_json(&s, "/scim/Users", Some(&plain), SCIM, "{"),
        StatusCode::BAD_REQUEST,
        "plain malformed",
    );
    expect_denied(
        s.post_scim("/scim/Users", Some(&plain), &json!({})),
        "plain invalid",
    );
    expect_denied(
        s.post_scim(
            "/scim/Users",
            Some(&plain),
            &user_with("bob", "x@example.org"),
        ),
        "plain dup",
    );
    expect_denied(
        s.delete(&format!("/scim/Users/{UNKNOWN_ID}"), Some(&plain)),
        "plain unknown",
    );
    // Nothing happened.
    let list = expect_scim(s.get("/scim/Users", Some(&admin)), StatusCode::OK, "list");
    assert_eq!(list["totalResults"], 3);
}

/// The same order for groups: 401 first, an unreadable body (400) before 403, and 403
/// before validation and lookups.
#[test]
fn group_refusals_come_first() {
    let s = Server::start();
    let admin = s.token("admin");
    s.create_user(&admin, "bob");
    let g = s.create_group(&admin, "g");
    let plain = s.token("bob");

    expect_denied(
        s.get(&format!("/scim/Groups/{UNKNOWN_ID}"), Some(&plain)),
        "plain unknown",
    );
    expect_unauthorized(
        s.get(&format!("/scim/Groups/{UNKNOWN_ID}"), None),
        "anonymous unknown",
    );
    expect_unauthorized(
        get_accept(&s, &format!("/scim/Groups/{g}"), None, "application/json"),
        "anonymous bad accept",
    );
    expect_unauthorized(
        post_json(&s, "/scim/Groups", None, SCIM, "{"),
        "anonymous malformed",
    );
    expect_plain_error(
        post_json(&s, "/scim/Groups", Some(&plain), SCIM, "{"),
        StatusCode::BAD_REQUEST,
        "plain malformed",
    );
    for (body, what) in [
        (group_body("", None), "plain blank"),
        (group_body("a/b", None), "plain slash"),
        (group_body("g", None), "plain duplicate"),
        (
            group_body("x", Some((UNKNOWN_ID, "nope"))),
            "plain unknown parent",
        ),
    ] {
        expect_denied(s.post_scim("/scim/Groups", Some(&plain), &body), what);
    }
    expect_denied(
        s.delete(&format!("/scim/Groups/{UNKNOWN_ID}"), Some(&plain)),
        "plain delete unknown",
    );
    let list = expect_scim(s.get("/scim/Groups", Some(&admin)), StatusCode::OK, "list");
    assert_eq!(ids(&list), std::slice::from_ref(&g), "nothing happened");
}
