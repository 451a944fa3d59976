//! Accounts: `accounts` (reads), `account-touch`, `account-lifecycle` and `account-writer`.

use super::{R, StoreView, err};
use crate::contract::iam::plugin::{
    account_lifecycle, account_touch, account_writer, accounts, types,
};
use crate::passwords;
use crate::store;

impl accounts::Host for StoreView<'_> {
    fn get(&mut self, id: String) -> R<Option<types::Account>> {
        self.db()?.accounts().by_uuid(&id).map_err(err)
    }

    fn get_user(&mut self, id: String) -> R<Option<types::User>> {
        self.db()?.accounts().user(&id).map_err(err)
    }

    fn find_by_username(&mut self, username: String) -> R<Option<types::Account>> {
        self.db()?.accounts().by_username(&username).map_err(err)
    }

    fn find_by_email(&mut self, email: String) -> R<Option<types::Account>> {
        self.db()?.accounts().by_email(&email).map_err(err)
    }

    fn expired_before(&mut self, time: u64) -> R<Vec<types::Account>> {
        self.db()?.accounts().expired_before(time).map_err(err)
    }

    fn count(&mut self) -> R<u64> {
        self.db()?.accounts().count().map_err(err)
    }

    fn list_users(&mut self, offset: u64, limit: u64) -> R<Vec<types::User>> {
        self.db()?.accounts().list_users(offset, limit).map_err(err)
    }

    fn count_matching(&mut self, pattern: Option<String>) -> R<u64> {
        self.db()?
            .accounts()
            .count_matching(pattern.as_deref())
            .map_err(err)
    }

    fn search(
        &mut self,
        pattern: Option<String>,
        order: types::AccountOrder,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> R<Vec<types::User>> {
        self.db()?
            .accounts()
            .search(pattern.as_deref(), order, descending, offset, limit)
            .map_err(err)
    }

    fn find_by_oidc_id(&mut self, id: types::OidcId) -> R<Option<types::Account>> {
        let owner = self.db()?.identities().oidc_owner(&id).map_err(err)?;
        self.account_of(owner)
    }

    fn find_by_saml_id(&mut self, id: types::SamlId) -> R<Option<types::Account>> {
        let owner = self.db()?.identities().saml_owner(&id).map_err(err)?;
        self.account_of(owner)
    }

    fn find_by_ssh_fingerprint(&mut self, fingerprint: String) -> R<Option<types::Account>> {
        let owner = self
            .db()?
            .identities()
            .ssh_owner(&fingerprint)
            .map_err(err)?;
        self.account_of(owner)
    }

    fn find_by_certificate(
        &mut self,
        subject_dn: String,
        issuer_dn: String,
    ) -> R<Option<types::Account>> {
        let owner = self
            .db()?
            .identities()
            .certificate_owner(&subject_dn, &issuer_dn)
            .map_err(err)?;
        self.account_of(owner)
    }

    fn find_by_cert_subject(&mut self, subject: String) -> R<Option<types::Account>> {
        self.db()?.accounts().by_cert_subject(&subject).map_err(err)
    }

    fn count_with_label(&mut self, label: types::LabelFilter) -> R<u64> {
        self.db()?.accounts().count_with_label(&label).map_err(err)
    }

    fn with_label(
        &mut self,
        label: types::LabelFilter,
        offset: u64,
        limit: u64,
    ) -> R<Vec<types::User>> {
        self.db()?
            .accounts()
            .with_label(&label, offset, limit)
            .map_err(err)
    }

    fn count_in_group(
        &mut self,
        group_id: String,
        member: bool,
        pattern: Option<String>,
    ) -> R<u64> {
        self.db()?
            .accounts()
            .count_in_group(&group_id, member, pattern.as_deref())
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
        self.db()?
            .accounts()
            .in_group(&group_id, member, pattern.as_deref(), offset, limit)
            .map_err(err)
    }

    fn count_with_authority_ignoring_case(&mut self, authority: String) -> R<u64> {
        self.db()?
            .accounts()
            .count_with_authority_nocase(&authority)
            .map_err(err)
    }

    fn with_authority_ignoring_case(
        &mut self,
        authority: String,
        offset: u64,
        limit: u64,
    ) -> R<Vec<types::User>> {
        self.db()?
            .accounts()
            .with_authority_nocase(&authority, offset, limit)
            .map_err(err)
    }

    fn members_of(&mut self, group_id: String, offset: u64, limit: u64) -> R<Vec<types::User>> {
        self.db()?
            .accounts()
            .members_of(&group_id, offset, limit)
            .map_err(err)
    }

    fn with_authority(&mut self, authority: String) -> R<Vec<types::User>> {
        self.db()?
            .accounts()
            .with_authority(&authority)
            .map_err(err)
    }
}

impl account_touch::Host for StoreView<'_> {
    fn touch(&mut self, id: String) -> R<()> {
        self.db()?.accounts().touch(&id).map_err(err)
    }
}

impl account_lifecycle::Host for StoreView<'_> {
    fn set_end_time(&mut self, id: String, end_time: Option<u64>) -> R<()> {
        self.db()?
            .accounts()
            .set_end_time(&id, end_time)
            .map_err(err)?;
        let detail = end_time
            .map(|t| t.to_string())
            .unwrap_or_else(|| "none".into());
        self.audit.account("end time updated", &id, detail);
        Ok(())
    }

    fn set_active(&mut self, id: String, active: bool) -> R<()> {
        self.db()?.accounts().set_active(&id, active).map_err(err)?;
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
        let username = db.accounts().by_uuid(&id).map_err(err)?.map(|a| a.username);
        let removed = db.accounts().delete(&id).map_err(err)?;
        if removed {
            self.audit
                .account("account removed", &id, username.unwrap_or_default());
        }
        Ok(removed)
    }
}

impl account_writer::Host for StoreView<'_> {
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
        let account = self
            .db()?
            .accounts()
            .insert(&row, &["ROLE_USER"])
            .map_err(err)?;
        self.audit
            .account("account created", &account.id, &account.username);
        Ok(account)
    }

    fn update(&mut self, id: String, c: account_writer::AccountUpdate) -> R<types::Account> {
        let hash = c.password.as_deref().map(passwords::hash);
        let db = self.db()?;
        db.accounts()
            .update(&id, &c, hash.as_deref())
            .map_err(err)?;
        let account = db
            .accounts()
            .by_uuid(&id)
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
        self.db()?
            .identities()
            .set(&id, &oidc_ids, &saml_ids, &ssh_keys, &certificates)
            .map_err(err)
    }

    fn set_profile(&mut self, id: String, profile: types::Profile) -> R<()> {
        self.db()?.profiles().set(&id, &profile).map_err(err)
    }
}
