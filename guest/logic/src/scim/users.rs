//! SCIM users (docs/api.md §10.3) and `/scim/Me` (§10.5): the body's validation with IAM's
//! bean-validation messages, the 409 rules on usernames, e-mails and linked identities,
//! and create, get, list, replace and delete.

use super::user_not_found;
use crate::attributes::internal;
use crate::paging::{Window, scim_window_up_to};
use crate::store::{AccountCreate, AccountUpdate, Accounts, GroupStore, MembershipStore};
use crate::types::{
    Certificate, Error, ListQuery, NewUser, OidcId, PageInfo, PageRequest, Principal,
    RegistrationSettings, SamlId, SshKey, User,
};
use crate::validation::{is_blank, is_valid_email, java_len};

/// Collects bean-validation style violations: `[scimUser.<field> : <msg>]`.
struct Violations(Vec<String>);

impl Violations {
    fn add(&mut self, field: &str, msg: &str) {
        self.0.push(format!("[{field} : {msg}]"));
    }

    fn into_result(self, what: &str) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(format!("{what}: {}", self.0.join(","))))
        }
    }
}

fn check_person_name(v: &mut Violations, field: &str, value: Option<&str>) {
    match value {
        None => v.add(field, "must not be blank"),
        Some(s) if is_blank(s) => v.add(field, "must not be blank"),
        Some(s) => {
            if !(2..=64).contains(&java_len(s)) {
                v.add(field, "size must be between 2 and 64");
            }
            if s.contains(['<', '>', '%', '$']) {
                v.add(field, "must not contain the characters <>%$");
            }
        }
    }
}

/// Checks a SCIM user body; returns the primary e-mail address on success.
pub fn validate_user(new: &NewUser) -> Result<String, Error> {
    let mut v = Violations(Vec::new());
    match new.username.as_deref() {
        Some(u) if !is_blank(u) => {
            if java_len(u) > 128 {
                v.add("scimUser.userName", "size must be between 0 and 128");
            }
        }
        _ => v.add("scimUser.userName", "must not be blank"),
    }
    check_person_name(&mut v, "scimUser.name.givenName", new.given_name.as_deref());
    check_person_name(
        &mut v,
        "scimUser.name.familyName",
        new.family_name.as_deref(),
    );
    if new.emails.is_empty() {
        v.add("scimUser.emails", "must not be empty");
    }
    for (i, e) in new.emails.iter().enumerate() {
        let field = format!("scimUser.emails[{i}]");
        match e.value.as_deref() {
            Some(addr) if is_valid_email(addr) && java_len(addr) <= 128 => {}
            _ => v.add(
                &format!("{field}.value"),
                "Please provide a valid email address",
            ),
        }
        if e.kind.is_none() {
            v.add(&format!("{field}.type"), "must not be null");
        }
        if e.primary.is_none() {
            v.add(&format!("{field}.primary"), "must not be null");
        }
    }
    v.into_result("Invalid Scim User")?;
    let email = new
        .emails
        .iter()
        .find(|e| e.primary == Some(true))
        .unwrap_or(&new.emails[0]);
    Ok(email.value.clone().unwrap_or_default())
}

/// 409 when an identity or key in the body is linked to an account other than `owner`.
pub(super) fn check_identities(
    accounts: &impl Accounts,
    oidc_ids: &[OidcId],
    saml_ids: &[SamlId],
    ssh_keys: &[SshKey],
    certificates: &[Certificate],
    owner: Option<&str>,
) -> Result<(), Error> {
    let taken = |a: Option<crate::types::Account>| a.is_some_and(|a| Some(a.id.as_str()) != owner);
    for o in oidc_ids {
        if taken(accounts.find_by_oidc_id(o).map_err(internal)?) {
            return Err(Error::Conflict(format!(
                "OIDC id (issuer: {}, subject: {}) already bound to a user",
                o.issuer, o.subject
            )));
        }
    }
    for sm in saml_ids {
        if taken(accounts.find_by_saml_id(sm).map_err(internal)?) {
            return Err(Error::Conflict(format!(
                "SAML id (idpId: {}, userId: {}, attributeId: {}) already bound to a user",
                sm.idp_id, sm.user_id, sm.attribute_id
            )));
        }
    }
    for c in certificates {
        if taken(
            accounts
                .find_by_certificate(&c.subject_dn, &c.issuer_dn)
                .map_err(internal)?,
        ) {
            return Err(Error::Conflict(format!(
                "X.509 certificate (subject: {}, issuer: {}) already bound to a user",
                c.subject_dn, c.issuer_dn
            )));
        }
    }
    for k in ssh_keys {
        if taken(
            accounts
                .find_by_ssh_fingerprint(&k.fingerprint)
                .map_err(internal)?,
        ) {
            return Err(Error::Conflict(format!(
                "SSH key with fingerprint {} already bound to a user",
                k.fingerprint
            )));
        }
    }
    Ok(())
}

fn check_new_identities(
    accounts: &impl Accounts,
    new: &NewUser,
    owner: Option<&str>,
) -> Result<(), Error> {
    check_identities(
        accounts,
        &new.oidc_ids,
        &new.saml_ids,
        &new.ssh_keys,
        &new.certificates,
        owner,
    )
}

/// The items of `all` without repeats (the first of equal ones kept).
pub(super) fn unique<T: Clone>(all: &[T], same: impl Fn(&T, &T) -> bool) -> Vec<T> {
    let mut kept: Vec<T> = Vec::new();
    for item in all {
        if !kept.iter().any(|k| same(k, item)) {
            kept.push(item.clone());
        }
    }
    kept
}

/// Links the body's identities (each once) to the account.
/// Stores what a user body holds besides the account itself: linked identities and profile.
fn save_details(accounts: &impl Accounts, id: &str, new: &NewUser) -> Result<(), Error> {
    let oidc = unique(&new.oidc_ids, |a, b| a == b);
    let saml = unique(&new.saml_ids, |a, b| a == b);
    let ssh = unique(&new.ssh_keys, |a, b| a.fingerprint == b.fingerprint);
    let certs = unique(&new.certificates, |a, b| {
        a.subject_dn == b.subject_dn && a.issuer_dn == b.issuer_dn
    });
    accounts
        .set_identities(id, &oidc, &saml, &ssh, &certs)
        .map_err(internal)?;
    accounts.set_profile(id, &new.profile).map_err(internal)
}

pub fn create_user(
    accounts: &impl Accounts,
    groups: &(impl GroupStore + MembershipStore),
    new: &NewUser,
    registration: &RegistrationSettings,
) -> Result<User, Error> {
    let email = validate_user(new)?;
    let username = new.username.clone().unwrap_or_default();
    if accounts
        .find_by_username(&username)
        .map_err(internal)?
        .is_some()
    {
        return Err(Error::Conflict(format!(
            "A user with username '{username}' already exists"
        )));
    }
    if accounts.find_by_email(&email).map_err(internal)?.is_some() {
        return Err(Error::Conflict(format!(
            "A user linked with email '{email}' already exists"
        )));
    }
    check_new_identities(accounts, new, None)?;
    // RFC 7643 §3.1: the service provider issues ids, and a client-supplied `id` is ignored.
    // (INDIGO IAM takes it: a deleted account's UUID could then be handed to a new account,
    // which its old tokens and links would then name.)
    let created = accounts
        .create(&AccountCreate {
            id: None,
            username,
            given_name: new.given_name.clone().unwrap_or_default(),
            family_name: new.family_name.clone().unwrap_or_default(),
            email,
            active: new.active.unwrap_or(false),
            password: new.password.clone(),
        })
        .map_err(internal)?;
    save_details(accounts, &created.id, new)?;
    for name in &registration.default_groups {
        if let Some(group) = groups.find_by_name(name).map_err(internal)? {
            crate::groups::add_member(accounts, groups, groups, &created.id, &group.id)?;
        }
    }
    get_user(accounts, &created.id)
}

pub fn get_user(accounts: &impl Accounts, id: &str) -> Result<User, Error> {
    accounts
        .get_user(id)
        .map_err(internal)?
        .ok_or_else(|| user_not_found(id))
}

/// `GET /scim/Users`: without a filter or an order, the plain list (its deep pages are
/// cheap); with one, the store's query.
pub fn list_users(
    accounts: &impl Accounts,
    page: &PageRequest,
    query: &ListQuery,
) -> Result<(PageInfo, Vec<User>), Error> {
    let w: Window = scim_window_up_to(page, i64::from(query.max_results));
    let plain = query.filter.is_none() && query.sort_by.is_none();
    let total = if plain {
        accounts.count()
    } else {
        accounts.count_users(query)
    }
    .map_err(internal)?;
    let users = if w.count_only {
        Vec::new()
    } else if plain {
        accounts.list_users(w.offset, w.limit).map_err(internal)?
    } else {
        accounts
            .find_users(query, w.offset, w.limit)
            .map_err(internal)?
    };
    Ok((w.info(total), users))
}

/// `PUT /scim/Users/{id}`: the same rules as creation, conflicts with *other* accounts.
pub fn replace_user(accounts: &impl Accounts, id: &str, new: &NewUser) -> Result<User, Error> {
    let email = validate_user(new)?;
    let current = accounts
        .get(id)
        .map_err(internal)?
        .ok_or_else(|| user_not_found(id))?;
    let username = new.username.clone().unwrap_or_default();
    if accounts
        .find_by_username(&username)
        .map_err(internal)?
        .is_some_and(|a| a.id != id)
    {
        return Err(Error::Conflict(format!(
            "username {username} already assigned to another user"
        )));
    }
    if accounts
        .find_by_email(&email)
        .map_err(internal)?
        .is_some_and(|a| a.id != id)
    {
        return Err(Error::Conflict(format!(
            "email {email} already assigned to another user"
        )));
    }
    check_new_identities(accounts, new, Some(id))?;
    accounts
        .update(
            id,
            &AccountUpdate {
                username,
                given_name: new.given_name.clone().unwrap_or_default(),
                family_name: new.family_name.clone().unwrap_or_default(),
                email,
                active: new.active.unwrap_or(current.active),
                password: new.password.clone(),
            },
        )
        .map_err(internal)?;
    save_details(accounts, id, new)?;
    get_user(accounts, id)
}

pub fn delete_user(accounts: &impl Accounts, id: &str) -> Result<(), Error> {
    if accounts.delete(id).map_err(internal)? {
        Ok(())
    } else {
        Err(user_not_found(id))
    }
}

/// `GET /scim/Me` (docs/api.md §10.5).
pub fn get_me(accounts: &impl Accounts, caller: &Principal) -> Result<User, Error> {
    let id = caller
        .account_id
        .as_deref()
        .ok_or_else(|| Error::Invalid("No user linked to the current OAuth token".into()))?;
    accounts.get_user(id).map_err(internal)?.ok_or_else(|| {
        Error::NotFound(format!(
            "No user mapped to username '{}'",
            caller.username.as_deref().unwrap_or(id)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::FakeStore;
    use crate::scim::tests::{invalid, new_user, no_defaults};

    #[test]
    fn new_users_join_the_default_groups_that_exist() {
        let store = FakeStore::default();
        let root = GroupStore::create(&store, "root", None).unwrap().id;
        let leaf = GroupStore::create(&store, "root/leaf", Some(&root))
            .unwrap()
            .id;
        let other = GroupStore::create(&store, "other", None).unwrap().id;
        let registration = RegistrationSettings {
            default_groups: vec!["root/leaf".into(), "missing".into()],
        };
        let u = create_user(
            &store,
            &store,
            &new_user("alice", "alice@example.org"),
            &registration,
        )
        .unwrap();
        // The leaf and, as for any join, its ancestor; a name no group has is skipped.
        let mut joined = store.memberships(&u.account.id);
        joined.sort();
        let mut expected = vec![root, leaf];
        expected.sort();
        assert_eq!(joined, expected);
        assert!(!joined.contains(&other));
    }

    #[test]
    fn user_validation_messages() {
        let mut u = new_user("", "bad");
        u.given_name = None;
        u.emails[0].kind = None;
        let m = invalid(validate_user(&u));
        assert!(m.starts_with("Invalid Scim User: ["), "{m}");
        for part in [
            "[scimUser.userName : must not be blank]",
            "[scimUser.name.givenName : must not be blank]",
            "[scimUser.emails[0].value : Please provide a valid email address]",
            "[scimUser.emails[0].type : must not be null]",
        ] {
            assert!(m.contains(part), "{m} lacks {part}");
        }
        let mut u = new_user("x", "x@y.z");
        u.emails.clear();
        assert!(invalid(validate_user(&u)).contains("[scimUser.emails : must not be empty]"));
        let mut u = new_user("x", "x@y.z");
        u.family_name = Some("a$b".into());
        assert!(invalid(validate_user(&u)).contains("scimUser.name.familyName"));
    }

    #[test]
    fn user_conflicts_and_inactive_default() {
        let store = FakeStore::default();
        let u = create_user(
            &store,
            &store,
            &new_user("alice", "alice@example.org"),
            &no_defaults(),
        )
        .unwrap();
        assert!(!u.account.active);
        let dup = create_user(
            &store,
            &store,
            &new_user("alice", "other@example.org"),
            &no_defaults(),
        );
        assert_eq!(
            dup.unwrap_err(),
            Error::Conflict("A user with username 'alice' already exists".into())
        );
        let dup = create_user(
            &store,
            &store,
            &new_user("bob", "alice@example.org"),
            &no_defaults(),
        );
        assert_eq!(
            dup.unwrap_err(),
            Error::Conflict("A user linked with email 'alice@example.org' already exists".into())
        );
        delete_user(&store, &u.account.id).unwrap();
        assert_eq!(
            delete_user(&store, &u.account.id),
            Err(user_not_found(&u.account.id))
        );
    }

    #[test]
    fn a_client_chosen_id_is_ignored() {
        let store = FakeStore::default();
        let first = create_user(
            &store,
            &store,
            &new_user("a", "a@example.org"),
            &no_defaults(),
        )
        .unwrap();
        // Neither a fresh id nor a deleted account's id is taken from the body.
        let mut wanted = new_user("b", "b@example.org");
        wanted.id = Some("chosen".into());
        let b = create_user(&store, &store, &wanted, &no_defaults()).unwrap();
        assert_ne!(b.account.id, "chosen");
        delete_user(&store, &first.account.id).unwrap();
        let mut reuse = new_user("a", "a@example.org");
        reuse.id = Some(first.account.id.clone());
        let again = create_user(&store, &store, &reuse, &no_defaults()).unwrap();
        assert_ne!(again.account.id, first.account.id);
    }

    #[test]
    fn identities_are_linked_to_one_account() {
        use crate::types::OidcId;
        let store = FakeStore::default();
        let oidc = OidcId {
            issuer: "https://op.example".into(),
            subject: "s1".into(),
        };
        let mut alice = new_user("alice", "alice@example.org");
        alice.oidc_ids = vec![oidc.clone(), oidc.clone()];
        let a = create_user(&store, &store, &alice, &no_defaults()).unwrap();
        let mut bob = new_user("bob", "bob@example.org");
        bob.oidc_ids = vec![oidc.clone()];
        assert_eq!(
            create_user(&store, &store, &bob, &no_defaults()).unwrap_err(),
            Error::Conflict(
                "OIDC id (issuer: https://op.example, subject: s1) already bound to a user".into()
            )
        );
        // Replacing alice with her own identity is fine.
        replace_user(&store, &a.account.id, &alice).unwrap();
        assert_eq!(
            store.find_by_oidc_id(&oidc).unwrap().unwrap().id,
            a.account.id
        );
    }
}
