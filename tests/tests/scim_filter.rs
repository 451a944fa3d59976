//! SCIM filtering, sorting and `.search` (RFC 7644 §3.4.2, §3.4.3; docs/scim.md), evaluated
//! by the database.

use iam_tests::*;
use reqwest::Method;
use serde_json::{Value, json};

struct Fixture {
    s: Server,
    admin: String,
    ids: Vec<(String, String)>,
    group: String,
}

/// alice Liddell, bob Builder, carol Danvers, dave Liddell; alice has an OIDC id; alice and
/// bob are in group `cms`.
fn fixture() -> Fixture {
    let s = Server::start();
    let admin = s.token("admin");
    let mut ids = Vec::new();
    for (user, given, family) in [
        ("alice", "Alice", "Liddell"),
        ("bob", "Bob", "Builder"),
        ("carol", "Carol", "Danvers"),
        ("dave", "Dave", "Liddell"),
    ] {
        let mut b = user_body(user);
        b["name"] = json!({"givenName": given, "familyName": family});
        if user == "alice" {
            b[INDIGO_USER] =
                json!({"oidcIds": [{"issuer": "https://op.example.org", "subject": "A-1"}]});
        }
        let r = s.post_scim("/scim/Users", Some(&admin), &b);
        assert_eq!(r.status(), StatusCode::CREATED);
        ids.push((
            user.to_string(),
            body(r)["id"].as_str().unwrap().to_string(),
        ));
        tick();
    }
    let group = s.create_group(&admin, "cms");
    s.join(&admin, &ids[0].1, &group);
    s.join(&admin, &ids[1].1, &group);
    Fixture {
        s,
        admin,
        ids,
        group,
    }
}

impl Fixture {
    fn id(&self, user: &str) -> &str {
        &self.ids.iter().find(|(u, _)| u == user).unwrap().1
    }

    fn list(&self, resource: &str, params: &[(&str, &str)]) -> Value {
        expect_scim(
            self.s.get(&with_query(resource, params), Some(&self.admin)),
            StatusCode::OK,
            &format!("{resource} {params:?}"),
        )
    }

    /// The usernames a filter selects, in list order (the fixture's admin excluded).
    fn users(&self, filter: &str) -> Vec<String> {
        let v = self.list("/scim/Users", &[("filter", filter)]);
        let names = usernames_of(&v);
        assert_eq!(v["totalResults"], names.len(), "{filter}: exact total");
        names.into_iter().filter(|n| n != "admin").collect()
    }

    fn error(&self, resource: &str, params: &[(&str, &str)]) -> Value {
        let r = self.s.get(&with_query(resource, params), Some(&self.admin));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{params:?}");
        let v = body(r);
        assert_eq!(v["schemas"], json!([SCIM_ERROR]), "{v}");
        v
    }
}

fn usernames_of(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn filters_select_users_in_the_database() {
    let f = fixture();
    let cases: &[(&str, &[&str])] = &[
        (r#"userName eq "alice""#, &["alice"]),
        (r#"userName eq "ALICE""#, &[]),
        (r#"USERNAME Eq "bob""#, &["bob"]),
        (r#"emails.value eq "CAROL@example.org""#, &["carol"]),
        (r#"emails eq "dave@example.org""#, &["dave"]),
        (r#"name.familyName eq "liddell""#, &["alice", "dave"]),
        (r#"name.familyName co "iddel""#, &["alice", "dave"]),
        (r#"name.givenName sw "ca""#, &["carol"]),
        (r#"userName ew "ob""#, &["bob"]),
        (
            r#"name.familyName eq "Liddell" and not (userName eq "dave")"#,
            &["alice"],
        ),
        (
            r#"userName eq "bob" or (userName eq "carol" and active eq true)"#,
            &["bob", "carol"],
        ),
        (
            r#"urn:indigo-dc:scim:schemas:IndigoUser:oidcIds[issuer eq "https://op.example.org" and subject eq "A-1"]"#,
            &["alice"],
        ),
        (
            r#"urn:indigo-dc:scim:schemas:IndigoUser:oidcIds.subject eq "a-1""#,
            &[],
        ),
        (
            r#"urn:indigo-dc:scim:schemas:IndigoUser:oidcIds pr and userName ne "x""#,
            &["alice"],
        ),
        (r#"nickName pr"#, &[]),
        (r#"emails[type eq "work" and value co "bob@"]"#, &["bob"]),
        (r#"userName co "%" or userName co "_""#, &[]),
    ];
    for (filter, expected) in cases {
        assert_eq!(f.users(filter), *expected, "{filter}");
    }
    let alice = f.id("alice").to_string();
    assert_eq!(f.users(&format!("id eq \"{alice}\"")), ["alice"]);
    assert_eq!(
        f.users(&format!("groups.value eq \"{}\"", f.group)),
        ["alice", "bob"]
    );
    // Time: everyone created after alice.
    let created = f.s.get(&format!("/scim/Users/{alice}"), Some(&f.admin));
    let created = body(created)["meta"]["created"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        f.users(&format!("meta.created gt \"{created}\"")),
        ["bob", "carol", "dave"]
    );
}

#[test]
fn totals_are_exact_and_pages_follow_the_order() {
    let f = fixture();
    let v = f.list(
        "/scim/Users",
        &[
            ("filter", r#"userName ne "admin""#),
            ("sortBy", "userName"),
            ("sortOrder", "descending"),
            ("count", "2"),
            ("startIndex", "2"),
        ],
    );
    assert_eq!(v["totalResults"], 4);
    assert_eq!(v["itemsPerPage"], 2);
    assert_eq!(v["startIndex"], 2);
    assert_eq!(usernames_of(&v), ["carol", "bob"]);
    // Sorting alone, by a sub-attribute, ties broken by creation.
    let v = f.list(
        "/scim/Users",
        &[
            ("sortBy", "name.familyName"),
            ("filter", r#"userName ne "admin""#),
        ],
    );
    assert_eq!(usernames_of(&v), ["bob", "carol", "alice", "dave"]);
    let v = f.list(
        "/scim/Users",
        &[
            ("count", "0"),
            ("filter", r#"name.familyName eq "Liddell""#),
        ],
    );
    assert_eq!(v["totalResults"], 2);
    assert_eq!(v["Resources"], json!([]));
}

#[test]
fn filters_the_server_cannot_evaluate_are_400_invalid_filter() {
    let f = fixture();
    let cases = [
        r#"userName eq"#,
        r#"userName eq "alice" and"#,
        r#"(userName eq "alice""#,
        r#"title eq "boss""#,
        r#"password eq "secret""#,
        r#"active gt true"#,
        r#"meta.created gt "yesterday""#,
        r#"urn:indigo-dc:scim:schemas:IndigoUser:labels.name eq "x""#,
        r#"urn:indigo-dc:scim:schemas:IndigoUser:authorities eq "ROLE_ADMIN""#,
    ];
    for filter in cases {
        let v = f.error("/scim/Users", &[("filter", filter)]);
        assert_eq!(v["scimType"], "invalidFilter", "{filter}: {v}");
    }
    let v = f.error("/scim/Users", &[("filter", "userName eq")]);
    assert!(v["detail"].as_str().unwrap().contains("position"), "{v}");
    // Errors of meaning say where too.
    let v = f.error(
        "/scim/Users",
        &[("filter", r#"userName eq "a" and nope eq 1"#)],
    );
    assert!(
        v["detail"].as_str().unwrap().ends_with("at position 20"),
        "{v}"
    );
    let v = f.error(
        "/scim/Users",
        &[("filter", r#"meta.created gt "yesterday""#)],
    );
    assert!(
        v["detail"].as_str().unwrap().ends_with("at position 0"),
        "{v}"
    );
    // Hostile input: deep nesting and long filters are refused quickly, not a 500.
    let deep = "(".repeat(5000) + r#"userName eq "a""# + &")".repeat(5000);
    let r = f.s.post_scim(
        "/scim/Users/.search",
        Some(&f.admin),
        &json!({"filter": deep}),
    );
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(r)["scimType"], "invalidFilter");
    for (sort_by, order) in [("emails.type", "ascending"), ("userName", "sideways")] {
        let v = f.error("/scim/Users", &[("sortBy", sort_by), ("sortOrder", order)]);
        assert_eq!(v["scimType"], "invalidValue", "{sort_by} {order}: {v}");
    }
    let v = f.error(
        "/scim/Users",
        &[("sortBy", "urn:indigo-dc:scim:schemas:IndigoUser:oidcIds")],
    );
    assert_eq!(v["scimType"], "invalidValue", "{v}");
}

#[test]
fn search_takes_the_parameters_in_the_body() {
    let f = fixture();
    let r = f.s.post_scim(
        "/scim/Users/.search",
        Some(&f.admin),
        &json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "name.familyName eq \"Liddell\"",
            "sortBy": "userName",
            "sortOrder": "descending",
            "attributes": ["userName", "name.familyName"],
            "startIndex": 1,
            "count": 10,
        }),
    );
    let v = expect_scim(r, StatusCode::OK, ".search");
    assert_eq!(usernames_of(&v), ["dave", "alice"]);
    assert_eq!(v["totalResults"], 2);
    let first = v["Resources"][0].as_object().unwrap();
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["id", "name", "schemas", "userName"]);

    let r = f.s.post_scim(
        "/scim/Groups/.search",
        Some(&f.admin),
        &json!({"filter": format!("members.value eq \"{}\"", f.id("bob"))}),
    );
    let v = expect_scim(r, StatusCode::OK, "group .search");
    assert_eq!(v["totalResults"], 1);
    assert_eq!(v["Resources"][0]["displayName"], "cms");

    // A plain user may not list users, with a filter or without.
    let alice = f.s.token("alice");
    let r = f.s.post_scim(
        "/scim/Users/.search",
        Some(&alice),
        &json!({"filter": "userName eq \"bob\""}),
    );
    expect_denied(r, "plain user .search");
    let r =
        f.s.req(Method::GET, "/scim/Users/.search", Some(&f.admin))
            .send()
            .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[test]
fn groups_filter_and_sort() {
    let f = fixture();
    f.s.create_group(&f.admin, "atlas");
    let v = f.list("/scim/Groups", &[("filter", r#"displayName eq "cms""#)]);
    assert_eq!(v["totalResults"], 1);
    assert_eq!(v["Resources"][0]["id"], f.group.as_str());
    let v = f.list(
        "/scim/Groups",
        &[
            (
                "filter",
                r#"displayName eq "cms" or displayName eq "atlas""#,
            ),
            ("sortBy", "displayName"),
        ],
    );
    let names: Vec<&str> = v["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["atlas", "cms"]);
    let v = f.error("/scim/Groups", &[("filter", r#"userName eq "x""#)]);
    assert_eq!(v["scimType"], "invalidFilter");
    let spc = body(f.s.get("/scim/ServiceProviderConfig", Some(&f.admin)));
    assert_eq!(spc["filter"]["supported"], true);
    assert_eq!(spc["sort"]["supported"], true);
}

#[test]
fn the_largest_page_is_the_operators() {
    let s = Server::start_with_config("[scim]\nmax_results = 2\n");
    let admin = s.token("admin");
    for u in ["a1", "a2", "a3"] {
        s.create_user(&admin, u);
    }
    let v = expect_scim(
        s.get(
            "/scim/Users?count=50&filter=userName%20sw%20%22a%22",
            Some(&admin),
        ),
        StatusCode::OK,
        "capped page",
    );
    assert_eq!(v["itemsPerPage"], 2);
    assert_eq!(v["totalResults"], 4, "admin and the three");
    let v = body(s.get("/scim/Users", Some(&admin)));
    assert_eq!(v["itemsPerPage"], 2, "the default page is the maximum");
    let spc = body(s.get("/scim/ServiceProviderConfig", Some(&admin)));
    assert_eq!(spc["filter"]["maxResults"], 2);
    for bad in ["0", "1001"] {
        let msg = serve_fails_with(&format!("[scim]\nmax_results = {bad}\n"));
        assert!(
            msg.contains("[scim] max_results must be between 1 and 1000"),
            "{msg}"
        );
    }
}
