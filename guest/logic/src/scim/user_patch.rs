//! `PATCH /scim/Users/{id}` (docs/scim.md): the changes the host read from the body are
//! applied in order to the current user, the result is validated as INDIGO IAM's patch
//! updaters validate it, and only what changed is written. All or nothing: any refusal
//! leaves the user as it was (the transaction rolls back).

use super::user_not_found;
use super::users::{check_identities, get_user, unique};
use crate::attributes::internal;
use crate::store::{AccountUpdate, Accounts};
use crate::types::{Certificate, Error, OidcId, Profile, SamlId, SshKey, User, UserChange};
use crate::validation::{is_blank, is_valid_email, java_len};

/// What a PATCH may change, as it stands after each change.
#[derive(Clone, PartialEq)]
struct Draft {
    username: String,
    given_name: String,
    family_name: String,
    email: String,
    active: bool,
    profile: Profile,
    oidc_ids: Vec<OidcId>,
    saml_ids: Vec<SamlId>,
    ssh_keys: Vec<SshKey>,
    certificates: Vec<Certificate>,
}

impl Draft {
    fn of(user: &User) -> Draft {
        let a = &user.account;
        Draft {
            username: a.username.clone(),
            given_name: a.given_name.clone(),
            family_name: a.family_name.clone(),
            email: a.email.clone(),
            active: a.active,
            profile: user.profile.clone(),
            oidc_ids: user.oidc_ids.clone(),
            saml_ids: user.saml_ids.clone(),
            ssh_keys: user.ssh_keys.clone(),
            certificates: user.certificates.clone(),
        }
    }

    fn apply(&mut self, change: &UserChange) {
        let same_cert = |a: &Certificate, b: &Certificate| {
            a.subject_dn == b.subject_dn && a.issuer_dn == b.issuer_dn
        };
        match change {
            UserChange::Username(v) => self.username = v.clone(),
            UserChange::GivenName(v) => self.given_name = v.clone(),
            UserChange::FamilyName(v) => self.family_name = v.clone(),
            UserChange::Email(v) => self.email = v.clone(),
            UserChange::Password(_) => {}
            UserChange::Active(v) => self.active = *v,
            UserChange::Picture(v) => self.profile.picture = v.clone(),
            UserChange::NickName(v) => self.profile.nick_name = v.clone(),
            UserChange::ProfileUrl(v) => self.profile.profile_url = v.clone(),
            UserChange::Locale(v) => self.profile.locale = v.clone(),
            UserChange::Timezone(v) => self.profile.timezone = v.clone(),
            UserChange::Address(v) => self.profile.address = v.clone(),
            UserChange::AddOidcIds(ids) => {
                self.oidc_ids.extend(ids.iter().cloned());
                self.oidc_ids = unique(&self.oidc_ids, |a, b| a == b);
            }
            UserChange::RemoveOidcIds(ids) => self.oidc_ids.retain(|o| !ids.contains(o)),
            UserChange::AddSamlIds(ids) => {
                self.saml_ids.extend(ids.iter().cloned());
                self.saml_ids = unique(&self.saml_ids, |a, b| a == b);
            }
            UserChange::RemoveSamlIds(ids) => self.saml_ids.retain(|s| !ids.contains(s)),
            UserChange::AddSshKeys(keys) => {
                self.ssh_keys.extend(keys.iter().cloned());
                self.ssh_keys = unique(&self.ssh_keys, |a, b| a.fingerprint == b.fingerprint);
            }
            UserChange::RemoveSshKeys(keys) => self
                .ssh_keys
                .retain(|k| !keys.iter().any(|r| r.fingerprint == k.fingerprint)),
            UserChange::AddCertificates(certs) => {
                self.certificates.extend(certs.iter().cloned());
                self.certificates = unique(&self.certificates, same_cert);
            }
            UserChange::RemoveCertificates(certs) => self
                .certificates
                .retain(|c| !certs.iter().any(|r| same_cert(r, c))),
        }
    }
}

/// The violations of a patched user, in INDIGO IAM's bean-validation form.
fn validate(d: &Draft) -> Result<(), Error> {
    let mut v: Vec<String> = Vec::new();
    let mut add = |field: &str, msg: &str| v.push(format!("[{field} : {msg}]"));
    if is_blank(&d.username) {
        add("userName", "must not be blank");
    } else if java_len(&d.username) > 128 {
        add("userName", "size must be between 0 and 128");
    }
    for (field, value) in [
        ("name.givenName", &d.given_name),
        ("name.familyName", &d.family_name),
    ] {
        if is_blank(value) {
            add(field, "must not be blank");
        } else {
            if !(2..=64).contains(&java_len(value)) {
                add(field, "size must be between 2 and 64");
            }
            if value.contains(['<', '>', '%', '$']) {
                add(field, "must not contain the characters <>%$");
            }
        }
    }
    if d.email.is_empty() {
        add("emails[0].value", "must not be empty");
    } else if !is_valid_email(&d.email) || java_len(&d.email) > 128 {
        add("emails[0].value", "Please provide a valid email address");
    }
    if v.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "Invalid Scim Patch Request: {}",
            v.join(",")
        )))
    }
}

pub fn patch_user(
    accounts: &impl Accounts,
    id: &str,
    changes: &[UserChange],
) -> Result<User, Error> {
    let current = accounts
        .get_user(id)
        .map_err(internal)?
        .ok_or_else(|| user_not_found(id))?;
    let before = Draft::of(&current);
    let mut after = before.clone();
    for change in changes {
        after.apply(change);
    }
    // INDIGO IAM sets a password only when it differs; a hash cannot tell, so any given
    // password is written.
    let password = changes.iter().rev().find_map(|c| match c {
        UserChange::Password(p) => Some(p.clone()),
        _ => None,
    });
    if after == before && password.is_none() {
        return Ok(current);
    }
    validate(&after)?;
    if after.username != before.username
        && accounts
            .find_by_username(&after.username)
            .map_err(internal)?
            .is_some_and(|a| a.id != id)
    {
        return Err(Error::Conflict(format!(
            "Username {} already bound to another user",
            after.username
        )));
    }
    if after.email != before.email
        && accounts
            .find_by_email(&after.email)
            .map_err(internal)?
            .is_some_and(|a| a.id != id)
    {
        return Err(Error::Conflict(format!(
            "Email {} already bound to another user",
            after.email
        )));
    }
    check_identities(
        accounts,
        &after.oidc_ids,
        &after.saml_ids,
        &after.ssh_keys,
        &after.certificates,
        Some(id),
    )?;
    // `update` touches the account, as INDIGO IAM does on any change.
    accounts
        .update(
            id,
            &AccountUpdate {
                username: after.username.clone(),
                given_name: after.given_name.clone(),
                family_name: after.family_name.clone(),
                email: after.email.clone(),
                active: after.active,
                password,
            },
        )
        .map_err(internal)?;
    let identities_changed = after.oidc_ids != before.oidc_ids
        || after.saml_ids != before.saml_ids
        || after.ssh_keys != before.ssh_keys
        || after.certificates != before.certificates;
    if identities_changed {
        accounts
            .set_identities(
                id,
                &after.oidc_ids,
                &after.saml_ids,
                &after.ssh_keys,
                &after.certificates,
            )
            .map_err(internal)?;
    }
    if after.profile != before.profile {
        accounts.set_profile(id, &after.profile).map_err(internal)?;
    }
    get_user(accounts, id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::FakeStore;
    use crate::scim::tests::{new_user, no_defaults};

    fn alice(store: &FakeStore) -> String {
        crate::scim::create_user(
            store,
            store,
            &new_user("alice", "alice@example.org"),
            &no_defaults(),
        )
        .unwrap()
        .account
        .id
    }

    #[test]
    fn changes_apply_in_order_and_only_a_change_touches() {
        let store = FakeStore::default();
        let id = alice(&store);
        let before = get_user(&store, &id).unwrap();
        let same = patch_user(
            &store,
            &id,
            &[UserChange::GivenName(before.account.given_name.clone())],
        )
        .unwrap();
        assert_eq!(same.account.last_modified, before.account.last_modified);
        let oidc = OidcId {
            issuer: "https://op".into(),
            subject: "s".into(),
        };
        let after = patch_user(
            &store,
            &id,
            &[
                UserChange::GivenName("Alicia".into()),
                UserChange::AddOidcIds(vec![oidc.clone(), oidc.clone()]),
                UserChange::NickName(Some("ali".into())),
                UserChange::Active(false),
            ],
        )
        .unwrap();
        assert_eq!(after.account.given_name, "Alicia");
        assert_eq!(after.oidc_ids, vec![oidc.clone()]);
        assert_eq!(after.profile.nick_name.as_deref(), Some("ali"));
        assert!(!after.account.active);
        let after = patch_user(&store, &id, &[UserChange::RemoveOidcIds(vec![oidc])]).unwrap();
        assert!(after.oidc_ids.is_empty());
    }

    #[test]
    fn refusals_change_nothing() {
        let store = FakeStore::default();
        let id = alice(&store);
        crate::scim::create_user(
            &store,
            &store,
            &new_user("bob", "bob@example.org"),
            &no_defaults(),
        )
        .unwrap();
        let Err(Error::Invalid(m)) = patch_user(
            &store,
            &id,
            &[
                UserChange::Email(String::new()),
                UserChange::GivenName("A".into()),
            ],
        ) else {
            panic!("an empty e-mail is refused")
        };
        assert_eq!(
            m,
            "Invalid Scim Patch Request: [name.givenName : size must be between 2 and 64],\
             [emails[0].value : must not be empty]"
        );
        let Err(Error::Conflict(m)) =
            patch_user(&store, &id, &[UserChange::Username("bob".into())])
        else {
            panic!("a taken username is refused")
        };
        assert_eq!(m, "Username bob already bound to another user");
        let Err(Error::Conflict(m)) =
            patch_user(&store, &id, &[UserChange::Email("bob@example.org".into())])
        else {
            panic!("a taken e-mail is refused")
        };
        assert_eq!(m, "Email bob@example.org already bound to another user");
        assert_eq!(get_user(&store, &id).unwrap().account.username, "alice");
        assert!(matches!(
            patch_user(&store, "nobody", &[]),
            Err(Error::NotFound(_))
        ));
    }
}
