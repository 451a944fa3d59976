//! `attribute-store`: an account's attributes.

use super::{R, StoreView, err};
use crate::contract::iam::plugin::{attribute_store, types};

impl attribute_store::Host for StoreView<'_> {
    fn get_all(&mut self, account_id: String) -> R<Vec<types::Attribute>> {
        self.db()?.attributes().all(&account_id).map_err(err)
    }

    fn put(&mut self, account_id: String, attr: types::Attribute) -> R<()> {
        self.db()?
            .attributes()
            .put(&account_id, &attr)
            .map_err(err)?;
        self.audit.account("attribute set", &account_id, attr.name);
        Ok(())
    }

    fn remove(&mut self, account_id: String, name: String) -> R<bool> {
        let removed = self
            .db()?
            .attributes()
            .remove(&account_id, &name)
            .map_err(err)?;
        if removed {
            self.audit.account("attribute removed", &account_id, name);
        }
        Ok(removed)
    }
}
