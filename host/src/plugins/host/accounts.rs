//! `accounts`: reads of accounts (by id, name, e-mail, identity, label, group, authority).

use super::{R, StoreView, err};
use crate::contract::iam::plugin::{accounts, types};

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

    fn count_users(&mut self, query: types::ListQuery) -> R<u64> {
        self.db()?.accounts().count_users(&query).map_err(err)
    }

    fn find_users(
        &mut self,
        query: types::ListQuery,
        offset: u64,
        limit: u64,
    ) -> R<Vec<types::User>> {
        self.db()?
            .accounts()
            .find_users(&query, offset, limit)
            .map_err(err)
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

impl StoreView<'_> {
    /// The account with this UUID, when there is one.
    fn account_of(&self, uuid: Option<String>) -> R<Option<types::Account>> {
        match uuid {
            Some(u) => self.db()?.accounts().by_uuid(&u).map_err(err),
            None => Ok(None),
        }
    }
}
