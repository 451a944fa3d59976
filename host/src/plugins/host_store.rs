//! The `store` imports: each call runs on the connection of the request's transaction.

use rusqlite::Connection;

use super::GuestState;
use crate::audit::label_name;
use crate::contract::iam::plugin::{
    account_lifecycle, account_touch, account_writer, accounts, attribute_store, authority_store,
    authority_writer, certificate_store, client_store, group_store, group_writer, label_store,
    manager_store, membership_store, types,
};
use crate::passwords;
use crate::store;

type R<T> = Result<T, String>;

impl GuestState {
    fn db(&self) -> R<&Connection> {
        self.conn
            .as_deref()
            .ok_or_else(|| "this plugin slot has no database access".to_string())
    }
}

impl GuestState {
    /// The account with this UUID, when there is one.
    fn account_of(&self, uuid: Option<String>) -> R<Option<types::Account>> {
        match uuid {
            Some(u) => store::accounts::by_uuid(self.db()?, &u).map_err(err),
            None => Ok(None),
        }
    }
}

fn err(e: rusqlite::Error) -> String {
    format!("database error: {e}")
}

impl types::Host for GuestState {}

impl accounts::Host for GuestState {
    fn get(&mut self, id: String) -> R<Option<types::Account>> {
        store::accounts::by_uuid(self.db()?, &id).map_err(err)
    }

    fn get_user(&mut self, id: String) -> R<Option<types::User>> {
        store::accounts::user(self.db()?, &id).map_err(err)
    }

    fn find_by_username(&mut self, username: String) -> R<Option<types::Account>> {
        store::accounts::by_username(self.db()?, &username).map_err(err)
    }

    fn find_by_email(&mut self, email: String) -> R<Option<types::Account>> {
        store::accounts::by_email(self.db()?, &email).map_err(err)
    }

    fn expired_before(&mut self, time: u64) -> R<Vec<types::Account>> {
        store::accounts::expired_before(self.db()?, time).map_err(err)
    }

    fn count(&mut self) -> R<u64> {
        store::accounts::count(self.db()?).map_err(err)
    }

    fn list_users(&mut self, offset: u64, limit: u64) -> R<Vec<types::User>> {
        store::accounts::list_users(self.db()?, offset, limit).map_err(err)
    }

    fn count_matching(&mut self, pattern: Option<String>) -> R<u64> {
        store::accounts::count_matching(self.db()?, pattern.as_deref()).map_err(err)
    }

    fn search(
        &mut self,
        pattern: Option<String>,
        order: types::AccountOrder,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> R<Vec<types::User>> {
        store::accounts::search(
            self.db()?,
            pattern.as_deref(),
            order,
            descending,
            offset,
            limit,
        )
        .map_err(err)
    }

    fn find_by_oidc_id(&mut self, id: types::OidcId) -> R<Option<types::Account>> {
        let owner = store::identities::oidc_owner(self.db()?, &id).map_err(err)?;
        self.account_of(owner)
    }

    fn find_by_saml_id(&mut self, id: types::SamlId) -> R<Option<types::Account>> {
        let owner = store::identities::saml_owner(self.db()?, &id).map_err(err)?;
        self.account_of(owner)
    }

    fn find_by_ssh_fingerprint(&mut self, fingerprint: String) -> R<Option<types::Account>> {
        let owner = store::identities::ssh_owner(self.db()?, &fingerprint).map_err(err)?;
        self.account_of(owner)
    }

    fn find_by_certificate(
        &mut self,
        subject_dn: String,
        issuer_dn: String,
    ) -> R<Option<types::Account>> {
        let owner = store::identities::certificate_owner(self.db()?, &subject_dn, &issuer_dn)
            .map_err(err)?;
        self.account_of(owner)
    }

    fn find_by_cert_subject(&mut self, subject: String) -> R<Option<types::Account>> {
        store::accounts::by_cert_subject(self.db()?, &subject).map_err(err)
    }

    fn count_with_label(&mut self, label: types::LabelFilter) -> R<u64> {
        store::accounts::count_with_label(self.db()?, &label).map_err(err)
    }

    fn with_label(
        &mut self,
        label: types::LabelFilter,
        offset: u64,
        limit: u64,
    ) -> R<Vec<types::User>> {
        store::accounts::with_label(self.db()?, &label, offset, limit).map_err(err)
    }

    fn count_in_group(
        &mut self,
        group_id: String,
        member: bool,
        pattern: Option<String>,
    ) -> R<u64> {
        store::accounts::count_in_group(self.db()?, &group_id, member, pattern.as_deref())
            .map_err(err)
    }

    fn in_group(
        &mut self,
        group_id: String,
        member: bool,
        pattern: Option<String>,
        offset: u64,
        limit: u64,
    ) -> R<Vec<types::User>> {
        store::accounts::in_group(
            self.db()?,
            &group_id,
            member,
            pattern.as_deref(),
            offset,
            limit,
        )
        .map_err(err)
    }

    fn count_with_authority_ignoring_case(&mut self, authority: String) -> R<u64> {
        store::accounts::count_with_authority_nocase(self.db()?, &authority).map_err(err)
    }

    fn with_authority_ignoring_case(
        &mut self,
        authority: String,
        offset: u64,
        limit: u64,
    ) -> R<Vec<types::User>> {
        store::accounts::with_authority_nocase(self.db()?, &authority, offset, limit).map_err(err)
    }

    fn members_of(&mut self, group_id: String, offset: u64, limit: u64) -> R<Vec<types::User>> {
        store::accounts::members_of(self.db()?, &group_id, offset, limit).map_err(err)
    }

    fn with_authority(&mut self, authority: String) -> R<Vec<types::User>> {
        store::accounts::with_authority(self.db()?, &authority).map_err(err)
    }
}

impl account_touch::Host for GuestState {
    fn touch(&mut self, id: String) -> R<()> {
        store::accounts::touch(self.db()?, &id).map_err(err)
    }
}

impl account_lifecycle::Host for GuestState {
    fn set_end_time(&mut self, id: String, end_time: Option<u64>) -> R<()> {
        store::accounts::set_end_time(self.db()?, &id, end_time).map_err(err)?;
        let detail = end_time
            .map(|t| t.to_string())
            .unwrap_or_else(|| "none".into());
        self.audit.account("end time updated", &id, detail);
        Ok(())
    }

    fn set_active(&mut self, id: String, active: bool) -> R<()> {
        store::accounts::set_active(self.db()?, &id, active).map_err(err)?;
        let kind = if active {
            "account restored"
        } else {
            "account suspended"
        };
        self.audit.account(kind, &id, "");
        Ok(())
    }

    fn delete(&mut self, id: String) -> R<bool> {
        let db = self.db()?;
        let username = store::accounts::by_uuid(db, &id)
            .map_err(err)?
            .map(|a| a.username);
        let removed = store::accounts::delete(db, &id).map_err(err)?;
        if removed {
            self.audit
                .account("account removed", &id, username.unwrap_or_default());
        }
        Ok(removed)
    }
}

impl account_writer::Host for GuestState {
    fn create(&mut self, new: account_writer::AccountCreate) -> R<types::Account> {
        let uuid = new.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let hash = passwords::hash(&new.password.unwrap_or_else(passwords::random));
        let row = store::accounts::NewAccount {
            uuid: &uuid,
            username: &new.username,
            given_name: &new.given_name,
            family_name: &new.family_name,
            email: &new.email,
            active: new.active,
            password_hash: &hash,
        };
        let account = store::accounts::insert(self.db()?, &row, &["ROLE_USER"]).map_err(err)?;
        self.audit
            .account("account created", &account.id, &account.username);
        Ok(account)
    }

    fn update(&mut self, id: String, c: account_writer::AccountUpdate) -> R<types::Account> {
        let hash = c.password.as_deref().map(passwords::hash);
        let db = self.db()?;
        store::accounts::update(db, &id, &c, hash.as_deref()).map_err(err)?;
        let account = store::accounts::by_uuid(db, &id)
            .map_err(err)?
            .ok_or_else(|| format!("account {id} vanished during update"))?;
        self.audit
            .account("account updated", &account.id, &account.username);
        Ok(account)
    }

    fn set_identities(
        &mut self,
        id: String,
        oidc_ids: Vec<types::OidcId>,
        saml_ids: Vec<types::SamlId>,
        ssh_keys: Vec<types::SshKey>,
        certificates: Vec<types::Certificate>,
    ) -> R<()> {
        store::identities::set(
            self.db()?,
            &id,
            &oidc_ids,
            &saml_ids,
            &ssh_keys,
            &certificates,
        )
        .map_err(err)
    }

    fn set_profile(&mut self, id: String, profile: types::Profile) -> R<()> {
        store::profiles::set(self.db()?, &id, &profile).map_err(err)
    }
}

impl attribute_store::Host for GuestState {
    fn get_all(&mut self, account_id: String) -> R<Vec<types::Attribute>> {
        store::attributes::all(self.db()?, &account_id).map_err(err)
    }

    fn put(&mut self, account_id: String, attr: types::Attribute) -> R<()> {
        store::attributes::put(self.db()?, &account_id, &attr).map_err(err)?;
        self.audit.account("attribute set", &account_id, attr.name);
        Ok(())
    }

    fn remove(&mut self, account_id: String, name: String) -> R<bool> {
        let removed = store::attributes::remove(self.db()?, &account_id, &name).map_err(err)?;
        if removed {
            self.audit.account("attribute removed", &account_id, name);
        }
        Ok(removed)
    }
}

impl group_store::Host for GuestState {
    fn get(&mut self, id: String) -> R<Option<types::Group>> {
        store::groups::by_uuid(self.db()?, &id).map_err(err)
    }

    fn find_by_name(&mut self, name: String) -> R<Option<types::Group>> {
        store::groups::by_name(self.db()?, &name).map_err(err)
    }

    fn count_members(&mut self, id: String) -> R<u64> {
        store::groups::count_members(self.db()?, &id).map_err(err)
    }

    fn count_subgroups(&mut self, id: String) -> R<u64> {
        store::groups::count_subgroups(self.db()?, &id).map_err(err)
    }

    fn count(&mut self) -> R<u64> {
        store::groups::count(self.db()?).map_err(err)
    }

    fn list_groups(&mut self, offset: u64, limit: u64) -> R<Vec<types::Group>> {
        store::groups::list(self.db()?, offset, limit).map_err(err)
    }

    fn count_matching(&mut self, text: Option<String>) -> R<u64> {
        store::groups::count_matching(self.db()?, text.as_deref()).map_err(err)
    }

    fn search(
        &mut self,
        text: Option<String>,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> R<Vec<types::Group>> {
        store::groups::search(self.db()?, text.as_deref(), descending, offset, limit).map_err(err)
    }

    fn subgroups(&mut self, id: String, offset: u64, limit: u64) -> R<Vec<types::GroupRef>> {
        store::groups::subgroups(self.db()?, &id, offset, limit).map_err(err)
    }

    fn all_refs(&mut self) -> R<Vec<types::GroupRef>> {
        store::groups::all_refs(self.db()?).map_err(err)
    }
}

impl group_writer::Host for GuestState {
    fn create(&mut self, name: String, parent_id: Option<String>) -> R<types::Group> {
        let group = store::groups::insert(self.db()?, &name, parent_id.as_deref()).map_err(err)?;
        self.audit.group("group created", &group.id, &group.name);
        Ok(group)
    }

    fn set_description(&mut self, id: String, description: Option<String>) -> R<types::Group> {
        let group =
            store::groups::set_description(self.db()?, &id, description.as_deref()).map_err(err)?;
        self.audit
            .group("group description updated", &group.id, &group.name);
        Ok(group)
    }

    fn rename(&mut self, id: String, name: String) -> R<types::Group> {
        let group = store::groups::rename(self.db()?, &id, &name).map_err(err)?;
        self.audit.group("group renamed", &group.id, &group.name);
        Ok(group)
    }

    fn delete(&mut self, id: String) -> R<bool> {
        let db = self.db()?;
        let name = store::groups::by_uuid(db, &id)
            .map_err(err)?
            .map(|g| g.name);
        let removed = store::groups::delete(db, &id).map_err(err)?;
        if removed {
            self.audit
                .group("group removed", &id, name.unwrap_or_default());
        }
        Ok(removed)
    }

    fn touch(&mut self, id: String) -> R<()> {
        store::groups::touch(self.db()?, &id).map_err(err)
    }
}

impl authority_store::Host for GuestState {
    fn of_account(&mut self, account_id: String) -> R<Vec<String>> {
        store::authorities::of_account(self.db()?, &account_id).map_err(err)
    }

    fn exists(&mut self, authority: String) -> R<bool> {
        store::authorities::exists(self.db()?, &authority).map_err(err)
    }
}

impl authority_writer::Host for GuestState {
    fn grant(&mut self, account_id: String, authority: String) -> R<bool> {
        let granted =
            store::authorities::grant(self.db()?, &account_id, &authority).map_err(err)?;
        if granted {
            self.audit
                .account("authority added", &account_id, authority);
        }
        Ok(granted)
    }

    /// Logged even when the account did not hold the authority, as INDIGO IAM does.
    fn revoke(&mut self, account_id: String, authority: String) -> R<bool> {
        let revoked =
            store::authorities::revoke(self.db()?, &account_id, &authority).map_err(err)?;
        self.audit
            .account("authority removed", &account_id, authority);
        Ok(revoked)
    }
}

/// Only `ROLE_GM:<group>`: whatever the group id holds, the authority it spells starts
/// with `ROLE_GM:`, and only a group's own authority has that name.
impl manager_store::Host for GuestState {
    fn appoint(&mut self, account_id: String, group_id: String) -> R<bool> {
        let authority = format!("ROLE_GM:{group_id}");
        let granted =
            store::authorities::grant(self.db()?, &account_id, &authority).map_err(err)?;
        if granted {
            self.audit
                .account("authority added", &account_id, authority);
        }
        Ok(granted)
    }

    /// Logged even when the account did not manage the group, as INDIGO IAM does.
    fn dismiss(&mut self, account_id: String, group_id: String) -> R<bool> {
        let authority = format!("ROLE_GM:{group_id}");
        let revoked =
            store::authorities::revoke(self.db()?, &account_id, &authority).map_err(err)?;
        self.audit
            .account("authority removed", &account_id, authority);
        Ok(revoked)
    }
}

impl label_store::Host for GuestState {
    fn get_all(&mut self, account_id: String) -> R<Vec<types::Label>> {
        store::labels::all(self.db()?, &account_id).map_err(err)
    }

    fn find(
        &mut self,
        account_id: String,
        prefix: Option<String>,
        name: String,
    ) -> R<Option<types::Label>> {
        store::labels::find(self.db()?, &account_id, prefix.as_deref(), &name).map_err(err)
    }

    fn put(&mut self, account_id: String, l: types::Label) -> R<()> {
        store::labels::put(self.db()?, &account_id, &l).map_err(err)?;
        let label = label_name(l.prefix.as_deref(), &l.name);
        self.audit.account("label set", &account_id, label);
        Ok(())
    }

    fn remove(&mut self, account_id: String, prefix: Option<String>, name: String) -> R<bool> {
        let removed = store::labels::remove(self.db()?, &account_id, prefix.as_deref(), &name)
            .map_err(err)?;
        if removed {
            let label = label_name(prefix.as_deref(), &name);
            self.audit.account("label removed", &account_id, label);
        }
        Ok(removed)
    }
}

impl membership_store::Host for GuestState {
    fn ancestors(&mut self, group_id: String) -> R<Vec<String>> {
        store::memberships::ancestors(self.db()?, &group_id).map_err(err)
    }

    fn descendants(&mut self, group_id: String) -> R<Vec<String>> {
        store::memberships::descendants(self.db()?, &group_id).map_err(err)
    }

    fn add(&mut self, account_id: String, group_id: String) -> R<bool> {
        let added = store::memberships::add(self.db()?, &account_id, &group_id).map_err(err)?;
        if added {
            self.audit.both("membership added", &account_id, &group_id);
        }
        Ok(added)
    }

    fn remove(&mut self, account_id: String, group_id: String) -> R<bool> {
        let removed =
            store::memberships::remove(self.db()?, &account_id, &group_id).map_err(err)?;
        if removed {
            self.audit
                .both("membership removed", &account_id, &group_id);
        }
        Ok(removed)
    }
}

impl client_store::Host for GuestState {
    fn get(&mut self, client_id: String) -> R<Option<types::Client>> {
        store::clients::get(self.db()?, &client_id).map_err(err)
    }

    fn create(&mut self, new: client_store::ClientCreate) -> R<client_store::Created> {
        let client_id = new
            .client_id
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let secret = new
            .secret
            .or_else(|| new.generate_secret.then(passwords::random));
        let hash = secret.as_deref().map(passwords::hash);
        let row = store::clients::NewClientRow {
            client_id: &client_id,
            secret_hash: hash.as_deref(),
            name: new.client_name.as_deref(),
            description: new.client_description.as_deref(),
            scope: &new.scope,
            grant_types: &new.grant_types,
            redirect_uris: &new.redirect_uris,
            auth_method: &new.token_endpoint_auth_method,
            active: new.active,
            access_token_validity: new.access_token_validity,
            refresh_token_validity: new.refresh_token_validity,
        };
        let client = store::clients::insert(self.db()?, &row).map_err(err)?;
        self.audit.other("client registered", &client.client_id);
        Ok(client_store::Created { client, secret })
    }

    fn delete(&mut self, client_id: String) -> R<bool> {
        let removed = store::clients::delete(self.db()?, &client_id).map_err(err)?;
        if removed {
            self.audit.other("client removed", client_id);
        }
        Ok(removed)
    }

    fn count(&mut self) -> R<u64> {
        store::clients::count(self.db()?).map_err(err)
    }

    fn list_clients(&mut self, offset: u64, limit: u64) -> R<Vec<types::Client>> {
        store::clients::list(self.db()?, offset, limit).map_err(err)
    }

    fn add_owner(&mut self, client_id: String, account_id: String) -> R<bool> {
        let added = store::clients::add_owner(self.db()?, &client_id, &account_id).map_err(err)?;
        if added {
            self.audit
                .account("client owner added", &account_id, client_id);
        }
        Ok(added)
    }

    fn remove_owner(&mut self, client_id: String, account_id: String) -> R<bool> {
        let removed =
            store::clients::remove_owner(self.db()?, &client_id, &account_id).map_err(err)?;
        if removed {
            self.audit
                .account("client owner removed", &account_id, client_id);
        }
        Ok(removed)
    }

    fn count_owned(&mut self, account_id: String) -> R<u64> {
        store::clients::count_owned(self.db()?, &account_id).map_err(err)
    }

    fn owned(&mut self, account_id: String, offset: u64, limit: u64) -> R<Vec<types::Client>> {
        store::clients::owned(self.db()?, &account_id, offset, limit).map_err(err)
    }
}

impl certificate_store::Host for GuestState {
    fn link(&mut self, account_id: String, cert: types::Certificate) -> R<()> {
        store::identities::link_certificate(self.db()?, &account_id, &cert).map_err(err)?;
        self.audit
            .account("x509 certificate linked", &account_id, cert.subject_dn);
        Ok(())
    }

    fn set_proxy(
        &mut self,
        account_id: String,
        subject_dn: String,
        issuer_dn: String,
        chain: String,
        expiration: u64,
    ) -> R<()> {
        store::identities::set_proxy(
            self.db()?,
            &account_id,
            &subject_dn,
            &issuer_dn,
            &chain,
            expiration,
        )
        .map_err(err)?;
        self.audit
            .account("x509 certificate updated", &account_id, subject_dn);
        Ok(())
    }
}
