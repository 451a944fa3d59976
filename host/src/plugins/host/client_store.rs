//! `client-store`: OAuth clients and their owners.

use super::{R, StoreView, err};
use crate::contract::iam::plugin::{client_store, types};
use crate::passwords;
use crate::store;

impl client_store::Host for StoreView<'_> {
    fn get(&mut self, client_id: String) -> R<Option<types::Client>> {
        self.db()?.clients().get(&client_id).map_err(err)
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
        let client = self.db()?.clients().insert(&row).map_err(err)?;
        self.audit.other("client registered", &client.client_id);
        Ok(client_store::Created { client, secret })
    }

    fn delete(&mut self, client_id: String) -> R<bool> {
        let removed = self.db()?.clients().delete(&client_id).map_err(err)?;
        if removed {
            self.audit.other("client removed", client_id);
        }
        Ok(removed)
    }

    fn count(&mut self) -> R<u64> {
        self.db()?.clients().count().map_err(err)
    }

    fn list_clients(&mut self, offset: u64, limit: u64) -> R<Vec<types::Client>> {
        self.db()?.clients().list(offset, limit).map_err(err)
    }

    fn add_owner(&mut self, client_id: String, account_id: String) -> R<bool> {
        let added = self
            .db()?
            .clients()
            .add_owner(&client_id, &account_id)
            .map_err(err)?;
        if added {
            self.audit
                .account("client owner added", &account_id, client_id);
        }
        Ok(added)
    }

    fn remove_owner(&mut self, client_id: String, account_id: String) -> R<bool> {
        let removed = self
            .db()?
            .clients()
            .remove_owner(&client_id, &account_id)
            .map_err(err)?;
        if removed {
            self.audit
                .account("client owner removed", &account_id, client_id);
        }
        Ok(removed)
    }

    fn count_owned(&mut self, account_id: String) -> R<u64> {
        self.db()?.clients().count_owned(&account_id).map_err(err)
    }

    fn owned(&mut self, account_id: String, offset: u64, limit: u64) -> R<Vec<types::Client>> {
        self.db()?
            .clients()
            .owned(&account_id, offset, limit)
            .map_err(err)
    }

    fn set_active(
        &mut self,
        client_id: String,
        active: bool,
        changed_by: Option<String>,
    ) -> R<bool> {
        let changed = self
            .db()?
            .clients()
            .set_active(&client_id, active, changed_by.as_deref())
            .map_err(err)?;
        if changed {
            let kind = if active {
                "client enabled"
            } else {
                "client disabled"
            };
            self.audit.other(kind, client_id);
        }
        Ok(changed)
    }

    /// The secret is made here, never by the guest, so a handler cannot choose a weak one.
    fn new_secret(&mut self, client_id: String) -> R<Option<String>> {
        let secret = passwords::random();
        let changed = self
            .db()?
            .clients()
            .set_secret_hash(&client_id, &passwords::hash(&secret))
            .map_err(err)?;
        if !changed {
            return Ok(None);
        }
        self.audit.other("client secret rotated", client_id);
        Ok(Some(secret))
    }
}
