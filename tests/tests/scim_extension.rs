//! What the IndigoUser extension shows (docs/api.md §10.1: the `scim.include_*` switches,
//! off by default) and the `attributes` parameter of `GET /scim/Users`.

use iam_tests::*;
use serde_json::{Value, json};

/// alice with two labels, two attributes, ROLE_READER and the management of group g.
fn decorate(s: &Server, admin: &str) -> (String, String) {
    let alice = s.create_user(admin, "alice");
    let g = s.create_group(admin, "g");
    for l in [
        json!({"name": "team", "value": "red"}),
        json!({"prefix": "example.org", "name": "team", "value": "x"}),
    ] {
        assert_eq!(
            s.put_json(&format!("/iam/account/{alice}/labels"), Some(admin), &l)
                .status(),
            StatusCode::OK
        );
    }
    for a in [
        json!({"name": "affiliation", "value": "INFN"}),
        json!({"name": "hidden", "value": "h"}),
    ] {
        assert_eq!(
            s.put_json(&attributes_path(&alice), Some(admin), &a)
                .status(),
            StatusCode::OK
        );
    }
    for path in [
        format!("/iam/account/{alice}/authorities?authority=ROLE_READER"),
        format!("/iam/account/{alice}/managed-groups/{g}"),
    ] {
        let r = s
            .req(reqwest::Method::POST, &path, Some(admin))
            .send()
            .unwrap();
        assert!(r.status().is_success());
    }
    (alice, g)
}

#[test]
fn the_extension_shows_nothing_optional_by_default() {
    let s = Server::start();
    let admin = s.token("admin");
    let (alice, _) = decorate(&s, &admin);
    let user = body(s.get(&format!("/scim/Users/{alice}"), Some(&admin)));
    assert_eq!(user[INDIGO_USER], json!({"serviceAccount": false}));
}

#[test]
fn the_include_switches_show_what_they_name() {
    let s = Server::start_with_config(
        "[scim]\n\
         include_labels = [{ name = \"team\" }, { prefix = \"example.org\", name = \"other\" }]\n\
         include_attributes = [{ name = \"affiliation\" }]\n\
         include_authorities = true\n\
         include_managed_groups = true\n",
    );
    let admin = s.token("admin");
    let (alice, g) = decorate(&s, &admin);
    let user = body(s.get(&format!("/scim/Users/{alice}"), Some(&admin)));
    let ext = &user[INDIGO_USER];
    // Only the unprefixed `team` label is configured; the prefixed one stays hidden.
    assert_eq!(
        ext["labels"],
        json!([{"prefix": null, "name": "team", "value": "red"}])
    );
    assert_eq!(
        ext["attributes"],
        json!([{"name": "affiliation", "value": "INFN"}])
    );
    assert_eq!(
        ext["authorities"],
        json!(["ROLE_USER", format!("ROLE_GM:{g}"), "ROLE_READER"])
    );
    assert_eq!(
        ext["managedGroups"],
        json!([{"value": g, "display": "g", "$ref": format!("{}/scim/Groups/{g}", s.base)}])
    );
    assert_eq!(ext["serviceAccount"], false);
    // The same view everywhere a full user is shown.
    let me = body(s.get("/scim/Me", Some(&s.token("alice"))));
    assert_eq!(me[INDIGO_USER], *ext);
    let found = body(s.get("/iam/account/find/byusername?username=alice", Some(&admin)));
    assert_eq!(found["Resources"][0][INDIGO_USER], *ext);
}

#[test]
fn the_attributes_parameter_keeps_the_named_members() {
    let s = Server::start();
    let admin = s.token("admin");
    s.create_user(&admin, "alice");
    let list = body(s.get(
        "/scim/Users?attributes=userName,name.givenName",
        Some(&admin),
    ));
    for u in list["Resources"].as_array().unwrap() {
        let mut keys: Vec<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["id", "name", "schemas", "userName"]);
    }
    let list = body(s.get(
        &format!("/scim/Users?attributes={INDIGO_USER}"),
        Some(&admin),
    ));
    let u: &Value = &list["Resources"][0];
    assert!(u.get(INDIGO_USER).is_some() && u.get("userName").is_none());
    assert_eq!(list["totalResults"], 2);
}
