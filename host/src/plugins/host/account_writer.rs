//! `account-writer`: creating accounts and changing what identifies them (names, password, ids).

use super::{R, StoreView, err};
use crate::contract::iam::plugin::{account_writer, types};
use crate::passwords;
use crate::store;

impl account_writer::Host for StoreView<'_> {
    fn create(&mut self, new: account_writer::AccountCreate) -> R<types::Account> {
        let uuid = new.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        // Without a password there is nothing to sign in with: no hash at all (hashing a
        // random one costs an argon2 run per account, which bulk provisioning pays 1000 times).
        let hash = new.password.as_deref().map(passwords::hash);
        let row = store::accounts::NewAccount {
            uuid: &uuid,
            username: &new.username,
            given_name: &new.given_name,
            family_name: &new.family_name,
            email: &new.email,
            active: new.active,
            password_hash: hash.as_deref(),
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
