//! The account finders, `/iam/account/find/...` (docs/api.md §8, with the differences
//! §3.1, §3.3 and §3.4).

use crate::attributes::internal;
use crate::paging::{Window, utility_window};
use crate::store::{Accounts, GroupStore};
use crate::types::{Account, Error, Finder, GroupFilter, PageInfo, PageRequest, User};
use crate::validation::{is_blank, java_len};

/// Largest page of `bylabel`, `bygroup` and `notingroup`.
pub const MAX_PAGE: i64 = 100;
/// Largest page of `byauthority`.
pub const MAX_AUTHORITY_PAGE: i64 = 10;
/// Default page of the form-backed finders (`bygroup`, `notingroup`).
pub const FORM_DEFAULT_COUNT: i64 = 10;

/// What a finder found (`find.found` in the WIT).
#[derive(Debug, PartialEq)]
pub struct Found {
    pub single: bool,
    pub info: PageInfo,
    pub users: Vec<User>,
}

fn single(accounts: &impl Accounts, account: Option<Account>) -> Result<Found, Error> {
    let users = match account {
        Some(a) => vec![
            accounts
                .get_user(&a.id)
                .map_err(internal)?
                .expect("account just read"),
        ],
        None => Vec::new(),
    };
    let info = PageInfo {
        total_results: users.len() as u64,
        start_index: 1,
        count_only: false,
    };
    Ok(Found {
        single: true,
        info,
        users,
    })
}

/// `byauthority` adds `ROLE_` unless the value already starts with it (any case).
pub fn normalize_authority(a: &str) -> String {
    if a.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("ROLE_")) {
        a.to_string()
    } else {
        format!("ROLE_{a}")
    }
}

/// The form of `bygroup`/`notingroup`: `count` ≥ 0 (default 10, at most 100), `startIndex`
/// ≥ 1 (default 1), and a `filter`, when present, non-blank and 2 to 64 characters long.
fn group_form(g: &GroupFilter, page: &PageRequest) -> Result<Window, Error> {
    let mut msgs = Vec::new();
    if let Some(f) = g.filter.as_deref() {
        if is_blank(f) {
            msgs.push("Please provide a non-blank filter string");
        }
        if !(2..=64).contains(&java_len(f)) {
            msgs.push("Please provide a filter that is between 2 and 64 chars long");
        }
    }
    if page.count.is_some_and(|c| c < 0) {
        msgs.push("must be >=0");
    }
    if page.start_index.is_some_and(|s| s < 1) {
        msgs.push("must be >=1");
    }
    if !msgs.is_empty() {
        return Err(Error::Invalid(format!(
            "Invalid find account request: [{}]",
            msgs.join(", ")
        )));
    }
    Ok(utility_window(
        page.start_index,
        Some(page.count.unwrap_or(FORM_DEFAULT_COUNT)),
        MAX_PAGE,
    ))
}

fn paged(
    w: Window,
    total: u64,
    list: impl FnOnce(u64, u64) -> Result<Vec<User>, String>,
) -> Result<Found, Error> {
    let users = if w.count_only {
        Vec::new()
    } else {
        list(w.offset, w.limit).map_err(internal)?
    };
    Ok(Found {
        single: false,
        info: w.info(total),
        users,
    })
}

pub fn find(
    accounts: &impl Accounts,
    groups: &impl GroupStore,
    finder: &Finder,
    page: &PageRequest,
) -> Result<Found, Error> {
    match finder {
        Finder::ByUsername(u) => single(accounts, accounts.find_by_username(u).map_err(internal)?),
        Finder::ByEmail(e) => single(accounts, accounts.find_by_email(e).map_err(internal)?),
        Finder::ByCertSubject(s) => single(
            accounts,
            accounts.find_by_cert_subject(s).map_err(internal)?,
        ),
        Finder::ByUuid(id) => single(accounts, accounts.get(id).map_err(internal)?),
        Finder::ByLabel(label) => {
            let w = utility_window(page.start_index, page.count, MAX_PAGE);
            let total = accounts.count_with_label(label).map_err(internal)?;
            paged(w, total, |o, l| accounts.with_label(label, o, l))
        }
        Finder::ByGroup(g) | Finder::NotInGroup(g) => {
            let member = matches!(finder, Finder::ByGroup(_));
            let w = group_form(g, page)?;
            if groups.get(&g.group).map_err(internal)?.is_none() {
                return Err(Error::Invalid(format!("Group does not exist: {}", g.group)));
            }
            let pattern = g.filter.as_deref();
            let total = accounts
                .count_in_group(&g.group, member, pattern)
                .map_err(internal)?;
            paged(w, total, |o, l| {
                accounts.in_group(&g.group, member, pattern, o, l)
            })
        }
        Finder::ByAuthority(a) => {
            let authority = normalize_authority(a);
            let w = utility_window(page.start_index, page.count, MAX_AUTHORITY_PAGE);
            let total = accounts
                .count_with_authority_ignoring_case(&authority)
                .map_err(internal)?;
            paged(w, total, |o, l| {
                accounts.with_authority_ignoring_case(&authority, o, l)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::FakeStore;

    const ALL: PageRequest = PageRequest {
        start_index: None,
        count: None,
    };

    fn invalid(r: Result<Found, Error>) -> String {
        match r {
            Err(Error::Invalid(m)) => m,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn authority_prefix() {
        assert_eq!(normalize_authority("admin"), "ROLE_admin");
        assert_eq!(normalize_authority("role_admin"), "role_admin");
        assert_eq!(normalize_authority("gm:x"), "ROLE_gm:x");
        assert_eq!(normalize_authority("ROL"), "ROLE_ROL");
    }

    #[test]
    fn single_result_finders() {
        let s = FakeStore::default();
        let id = s.add_account("alice");
        let found = find(&s, &s, &Finder::ByUsername("alice".into()), &ALL).unwrap();
        assert!(found.single && found.users.len() == 1 && found.info.total_results == 1);
        let none = find(&s, &s, &Finder::ByUuid("nope".into()), &ALL).unwrap();
        assert!(none.single && none.users.is_empty());
        assert_eq!(
            find(&s, &s, &Finder::ByEmail("alice@example.org".into()), &ALL)
                .unwrap()
                .users[0]
                .account
                .id,
            id
        );
    }

    #[test]
    fn group_form_validation_comes_before_the_group() {
        let s = FakeStore::default();
        let by = |filter: Option<&str>, start: Option<i64>, count: Option<i64>| {
            find(
                &s,
                &s,
                &Finder::ByGroup(GroupFilter {
                    group: "nope".into(),
                    filter: filter.map(Into::into),
                }),
                &PageRequest {
                    start_index: start,
                    count,
                },
            )
        };
        let both = invalid(by(Some(""), None, None));
        assert!(
            both.contains("Please provide a non-blank filter string"),
            "{both}"
        );
        assert!(
            both.contains("Please provide a filter that is between 2 and 64 chars long"),
            "{both}"
        );
        assert_eq!(
            invalid(by(Some("  "), None, None)),
            "Invalid find account request: [Please provide a non-blank filter string]"
        );
        assert_eq!(
            invalid(by(None, Some(0), None)),
            "Invalid find account request: [must be >=1]"
        );
        assert_eq!(
            invalid(by(None, None, Some(-1))),
            "Invalid find account request: [must be >=0]"
        );
        assert_eq!(
            invalid(by(Some("ok"), None, None)),
            "Group does not exist: nope"
        );
    }
}
