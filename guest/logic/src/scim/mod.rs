//! `/scim/Users` and `/scim/Groups` basics (docs/api.md §10.3, §10.4): validation with IAM's
//! messages, the 404 and 409 rules, and SCIM list paging. The users (and `/scim/Me`, §10.5)
//! are in `users.rs`, the groups in `groups.rs`; both are re-exported here as
//! `scim::<fn>`. This module keeps the not-found errors they share.

mod groups;
mod user_patch;
mod users;

pub use groups::{
    create_group, delete_group, get_group, list_groups, list_members, list_subgroups,
    patch_members, replace_group, validate_group_display_name,
};
pub use user_patch::patch_user;
pub use users::{
    create_user, delete_user, get_me, get_user, list_users, replace_user, validate_user,
};

use crate::types::Error;

pub fn user_not_found(id: &str) -> Error {
    Error::NotFound(format!("No user mapped to id '{id}'"))
}

pub fn group_not_found(id: &str) -> Error {
    Error::NotFound(format!("No group mapped to id '{id}'"))
}

/// Test helpers for both halves, and the tests that exercise users and groups together.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::{FakeStore, empty_profile};
    use crate::types::{
        EmailInput, MemberPatch, NewGroup, NewUser, PageRequest, Principal, RegistrationSettings,
    };

    pub(super) fn no_defaults() -> RegistrationSettings {
        RegistrationSettings {
            default_groups: vec![],
        }
    }

    pub(super) fn new_user(username: &str, email: &str) -> NewUser {
        NewUser {
            id: None,
            username: Some(username.into()),
            given_name: Some("Test".into()),
            family_name: Some("User".into()),
            emails: vec![EmailInput {
                value: Some(email.into()),
                kind: Some("work".into()),
                primary: Some(true),
            }],
            active: None,
            password: None,
            profile: empty_profile(),
            oidc_ids: vec![],
            saml_ids: vec![],
            ssh_keys: vec![],
            certificates: vec![],
        }
    }

    pub(super) fn invalid<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
        match r {
            Err(Error::Invalid(m)) => m,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn members_subgroups_and_me() {
        let store = FakeStore::default();
        let root = create_group(
            &store,
            &NewGroup {
                display_name: Some("root".into()),
                parent_id: None,
                parent_display: None,
            },
        )
        .unwrap();
        let page = PageRequest {
            start_index: None,
            count: None,
        };
        assert_eq!(
            list_members(&store, &store, "nope", &page).unwrap_err(),
            group_not_found("nope")
        );
        let (info, users) = list_members(&store, &store, &root.id, &page).unwrap();
        assert_eq!((info.total_results, users.len()), (0, 0));
        let child = create_group(
            &store,
            &NewGroup {
                display_name: Some("child".into()),
                parent_id: Some(root.id.clone()),
                parent_display: None,
            },
        )
        .unwrap();
        let (info, refs) = list_subgroups(&store, &root.id, &page).unwrap();
        assert_eq!(info.total_results, 1);
        assert_eq!(refs[0].id, child.id);
        let count_only = PageRequest {
            start_index: None,
            count: Some(0),
        };
        let (info, refs) = list_subgroups(&store, &root.id, &count_only).unwrap();
        assert!(info.count_only && refs.is_empty() && info.total_results == 1);

        let client = Principal {
            account_id: None,
            username: None,
            client_id: Some("c".into()),
            authorities: vec![],
            scopes: vec![],
        };
        assert_eq!(
            get_me(&store, &client).unwrap_err(),
            Error::Invalid("No user linked to the current OAuth token".into())
        );
        let alice = store.add_account("alice");
        let me = Principal {
            account_id: Some(alice.clone()),
            ..client
        };
        assert_eq!(get_me(&store, &me).unwrap().account.id, alice);
    }

    #[test]
    fn replace_and_patch() {
        let store = FakeStore::default();
        let a = create_user(
            &store,
            &store,
            &new_user("alice", "alice@example.org"),
            &no_defaults(),
        )
        .unwrap()
        .account;
        create_user(
            &store,
            &store,
            &new_user("bob", "bob@example.org"),
            &no_defaults(),
        )
        .unwrap();
        assert_eq!(
            replace_user(&store, &a.id, &new_user("bob", "x@example.org")).unwrap_err(),
            Error::Conflict("username bob already assigned to another user".into())
        );
        assert_eq!(
            replace_user(&store, &a.id, &new_user("alice", "bob@example.org")).unwrap_err(),
            Error::Conflict("email bob@example.org already assigned to another user".into())
        );
        let mut renamed = new_user("alice2", "alice@example.org");
        renamed.active = Some(true);
        let u = replace_user(&store, &a.id, &renamed).unwrap();
        assert_eq!(
            (u.account.username.as_str(), u.account.active),
            ("alice2", true)
        );
        assert_eq!(
            replace_user(&store, "nope", &renamed).unwrap_err(),
            user_not_found("nope")
        );

        let ng = |name: &str| NewGroup {
            display_name: Some(name.into()),
            parent_id: None,
            parent_display: None,
        };
        let g = create_group(&store, &ng("g")).unwrap();
        create_group(&store, &ng("h")).unwrap();
        assert_eq!(
            replace_group(&store, &g.id, &ng("h")).unwrap_err(),
            Error::Conflict("h is already mapped to another group".into())
        );
        assert_eq!(replace_group(&store, &g.id, &ng("g2")).unwrap().name, "g2");

        let patch = |op: &str, members: &[&str]| MemberPatch {
            op: op.into(),
            path: Some("members".into()),
            members: members.iter().map(|m| m.to_string()).collect(),
        };
        patch_members(&store, &store, &g.id, &[patch("add", &[&a.id])]).unwrap();
        assert_eq!(store.memberships(&a.id), std::slice::from_ref(&g.id));
        assert_eq!(
            patch_members(&store, &store, &g.id, &[patch("add", &["ghost"])]).unwrap_err(),
            user_not_found("ghost")
        );
        assert!(matches!(
            patch_members(&store, &store, &g.id, &[patch("move", &[])]),
            Err(Error::Invalid(_))
        ));
        patch_members(&store, &store, &g.id, &[patch("replace", &[])]).unwrap();
        assert!(store.memberships(&a.id).is_empty());
    }
}
