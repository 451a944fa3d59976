//! Account and group search (docs/api.md §9): paging family C, filters, sorting, the
//! restricted resource shapes, and who may search.

use iam_tests::*;
use serde_json::{Value, json};

fn create(
    s: &Server,
    admin: &str,
    username: &str,
    given: &str,
    family: &str,
    email: &str,
) -> String {
    let mut b = user_body(username);
    b["name"] = json!({"givenName": given, "familyName": family});
    b["emails"][0]["value"] = json!(email);
    let r = s.post_scim("/scim/Users", Some(admin), &b);
    assert_eq!(r.status(), StatusCode::CREATED);
    body(r)["id"].as_str().unwrap().to_string()
}

fn search(s: &Server, token: &str, query: &str) -> Value {
    let r = s.get(&format!("/iam/account/search{query}"), Some(token));
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    assert!(content_type(&r).starts_with("application/json"));
    body(r)
}

#[test]
fn account_search_filters_sorts_and_pages() {
    let s = Server::start();
    let admin = s.token("admin");
    let carol = create(&s, &admin, "carol", "Carol", "Zed", "a-carol@example.org");
    create(&s, &admin, "bob", "bob", "Young", "c-bob@example.org");
    create(
        &s,
        &admin,
        "alice",
        "Alice",
        "Xavier",
        "b-alice@example.org",
    );

    // Default: sorted by given then family name, case-insensitively; admin's "Admin User" first.
    let all = search(&s, &admin, "");
    assert_eq!(all["totalResults"], 4);
    assert_eq!(all["itemsPerPage"], 4);
    assert_eq!(all["startIndex"], 1);
    assert!(all.get("schemas").is_none());
    assert_eq!(usernames(&all), ["admin", "alice", "bob", "carol"]);

    // The restricted user shape: no schemas, no extension.
    let u = &all["Resources"][3];
    let mut keys: Vec<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "active",
            "displayName",
            "emails",
            "id",
            "meta",
            "name",
            "userName"
        ]
    );
    assert_eq!(u["id"], json!(carol));

    // Sorting.
    assert_eq!(
        usernames(&search(&s, &admin, "?sortBy=email")),
        ["carol", "admin", "alice", "bob"]
    );
    assert_eq!(
        usernames(&search(&s, &admin, "?sortBy=EMAIL&sortDirection=DESC")),
        ["bob", "alice", "admin", "carol"]
    );
    assert_eq!(
        usernames(&search(&s, &admin, "?sortBy=creation&sortDirection=desc")),
        ["alice", "bob", "carol", "admin"]
    );
    assert_eq!(
        usernames(&search(
            &s,
            &admin,
            "?sortBy=nonsense&sortDirection=sideways"
        )),
        ["admin", "alice", "bob", "carol"]
    );

    // Filter: case-insensitive substring of email, username, uuid or full name.
    assert_eq!(usernames(&search(&s, &admin, "?filter=ALICE")), ["alice"]);
    assert_eq!(usernames(&search(&s, &admin, "?filter=young")), ["bob"]);
    assert_eq!(
        usernames(&search(&s, &admin, "?filter=carol%20zed")),
        ["carol"]
    );
    assert_eq!(
        usernames(&search(&s, &admin, &format!("?filter={}", &carol[..8]))),
        ["carol"]
    );
    assert_eq!(usernames(&search(&s, &admin, "?filter=")).len(), 4);
    // LIKE wildcards are not escaped in account search (as in INDIGO IAM).
    assert_eq!(usernames(&search(&s, &admin, "?filter=b_alice")), ["alice"]);
    assert_eq!(search(&s, &admin, "?filter=nomatch")["totalResults"], 0);
    // Filters too short for the trigram index, and wildcards alone.
    assert_eq!(usernames(&search(&s, &admin, "?filter=zE")), ["carol"]);
    assert_eq!(usernames(&search(&s, &admin, "?filter=vI")), ["alice"]);
    assert_eq!(search(&s, &admin, "?filter=%25")["totalResults"], 4);
    assert_eq!(usernames(&search(&s, &admin, "?filter=a%25xav")), ["alice"]);
    // The index follows changes: a renamed account is found by its new name only.
    let r = s
        .req(
            reqwest::Method::PUT,
            &format!("/scim/Users/{carol}"),
            Some(&admin),
        )
        .header("content-type", SCIM)
        .body(
            json!({"userName": "caroline", "active": true,
                   "name": {"givenName": "Caroline", "familyName": "Zed"},
                   "emails": [{"type": "work", "value": "a-carol@example.org", "primary": true}]})
            .to_string(),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        usernames(&search(&s, &admin, "?filter=caroline")),
        ["caroline"]
    );
    assert_eq!(search(&s, &admin, "?filter=carol%20zed")["totalResults"], 0);
    s.delete(&format!("/scim/Users/{carol}"), Some(&admin));
    assert_eq!(search(&s, &admin, "?filter=caroline")["totalResults"], 0);
    create(&s, &admin, "carol", "Carol", "Zed", "a-carol@example.org");

    // Paging C: at most 10, count=0 is the count only, bad numbers fall back.
    let page = search(&s, &admin, "?startIndex=2&count=2");
    assert_eq!(
        (page["itemsPerPage"].clone(), page["startIndex"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(usernames(&page), ["alice", "bob"]);
    assert_eq!(
        search(&s, &admin, "?count=0"),
        json!({"totalResults": 4, "Resources": []})
    );
    assert_eq!(
        search(&s, &admin, "?startIndex=0&count=-1")["startIndex"],
        1
    );
    let past = search(&s, &admin, "?startIndex=99");
    assert_eq!(
        (past["itemsPerPage"].clone(), past["Resources"].clone()),
        (json!(0), json!([]))
    );
    for bad in ["?count=abc", "?startIndex=1.5"] {
        let r = s.get(&format!("/iam/account/search{bad}"), Some(&admin));
        expect_plain_error(r, StatusCode::BAD_REQUEST, bad);
    }
}

#[test]
fn account_search_pages_hold_at_most_ten() {
    let s = Server::start();
    let admin = s.token("admin");
    for i in 0..11 {
        s.create_user(&admin, &format!("user{i:02}"));
    }
    let page = search(&s, &admin, "?count=50");
    assert_eq!(page["totalResults"], 12);
    assert_eq!(page["itemsPerPage"], 10);
    assert_eq!(search(&s, &admin, "")["itemsPerPage"], 10);
    assert_eq!(search(&s, &admin, "?startIndex=11")["itemsPerPage"], 2);
}

#[test]
fn group_search() {
    let s = Server::start();
    let admin = s.token("admin");
    let beta = s.create_group(&admin, "beta");
    s.create_group(&admin, "Alpha");
    let r = s.post_scim(
        "/scim/Groups",
        Some(&admin),
        &group_body("child_1", Some((&beta, "beta"))),
    );
    assert_eq!(r.status(), StatusCode::CREATED);

    let names = |q: &str| -> Vec<String> {
        let r = s.get(&format!("/iam/group/search{q}"), Some(&admin));
        assert_eq!(r.status(), StatusCode::OK);
        body(r)["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["displayName"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(""), ["Alpha", "beta", "beta/child_1"]);
    assert_eq!(
        names("?sortDirection=desc&sortBy=creation"),
        ["beta/child_1", "beta", "Alpha"]
    );
    assert_eq!(names("?filter=BETA"), ["beta", "beta/child_1"]);
    assert_eq!(names(&format!("?filter={}", &beta[..8])), ["beta"]);
    // Group search takes `_` literally.
    assert_eq!(names("?filter=d_1"), ["beta/child_1"]);
    assert!(names("?filter=child%251").is_empty());

    let all = body(s.get("/iam/group/search", Some(&admin)));
    let g = &all["Resources"][1];
    let mut keys: Vec<&str> = g.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "displayName",
            "id",
            "meta",
            "urn:indigo-dc:scim:schemas:IndigoGroup"
        ]
    );
    assert_eq!(
        body(s.get("/iam/group/search?count=0", Some(&admin))),
        json!({"totalResults": 3, "Resources": []})
    );
}

/// Accounts (seeded behind the server's back, to have thousands quickly) in the order of
/// `sort_by`, computed here from the rows: the keys, lowered, then the id.
fn expected_order(s: &Server, sort_by: &str, descending: bool) -> Vec<String> {
    let mut rows: Vec<(Vec<String>, i64, String)> = s
        .sql_rows("SELECT id, given_name, family_name, email, created_ms, username FROM accounts")
        .into_iter()
        .map(|r| {
            let text = |i: usize| r[i].clone().unwrap_or_default().to_lowercase();
            let keys = match sort_by {
                "name" => vec![text(1), text(2)],
                "email" => vec![text(3)],
                _ => vec![format!("{:020}", text(4).parse::<u64>().unwrap())],
            };
            (keys, text(0).parse().unwrap(), text(5))
        })
        .collect();
    rows.sort();
    if descending {
        rows.reverse();
    }
    rows.into_iter().map(|(_, _, username)| username).collect()
}

#[test]
fn deep_pages_follow_the_order_and_its_changes() {
    let s = Server::start();
    let admin = s.token("admin");
    // Past 4096 a page starts from remembered positions instead of stepping over every
    // account before it (on both engines, each its own way): few distinct names, e-mails
    // and creation times, so ties are broken by the id.
    let n = 4600;
    s.sql_execute(&format!(
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n})
         INSERT INTO accounts(uuid, username, email, given_name, family_name, created_ms,
                              last_modified_ms)
         SELECT '00000000-0000-4000-8000-' || (100000000000 + i), 'deep' || (100000 + i),
                'd' || (100000 + (i * 7919) % {n}) || '@example.org',
                CASE i % 4 WHEN 0 THEN 'Ada' WHEN 1 THEN 'bruno' WHEN 2 THEN 'ADA' ELSE 'Chiara' END,
                CASE i % 3 WHEN 0 THEN 'Rossi' WHEN 1 THEN 'rossi' ELSE 'Verdi' END,
                1000 + i % 50, 1000
         FROM seq"
    ));
    if s.is_postgres() {
        // Planner statistics for the thousands of rows that came in behind the server's
        // back (the server's own writes leave that to autovacuum, as a site does).
        s.sql_execute("ANALYZE");
    }
    let check = |when: &str| {
        for (sort_by, descending) in [("name", false), ("email", true), ("creation", false)] {
            let order = expected_order(&s, sort_by, descending);
            let dir = if descending { "desc" } else { "asc" };
            for start in [4097, 4500, order.len() - 3] {
                let page = search(
                    &s,
                    &admin,
                    &format!("?count=10&startIndex={start}&sortBy={sort_by}&sortDirection={dir}"),
                );
                assert_eq!(page["totalResults"], order.len(), "{when}");
                let want: Vec<String> = order.iter().skip(start - 1).take(10).cloned().collect();
                assert_eq!(
                    usernames(&page),
                    want,
                    "{when}: {sort_by} {dir} from {start}"
                );
            }
        }
    };
    check("seeded");
    // A new account and a deleted one change every order: the remembered positions are
    // not used again.
    create(&s, &admin, "aaron", "Aaron", "Able", "a@example.org");
    let r = s.get("/scim/Users?count=5", Some(&admin));
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().unwrap());
    let gone = s.sql_one("SELECT uuid FROM accounts WHERE username = 'deep100010'");
    assert_eq!(
        s.delete(&format!("/scim/Users/{gone}"), Some(&admin))
            .status(),
        StatusCode::NO_CONTENT
    );
    check("after a creation and a deletion");
}
