//! `label-store`: an account's labels.

use super::{R, StoreView, err};
use crate::audit::label_name;
use crate::contract::iam::plugin::{label_store, types};

impl label_store::Host for StoreView<'_> {
    fn get_all(&mut self, account_id: String) -> R<Vec<types::Label>> {
        self.db()?.labels().all(&account_id).map_err(err)
    }

    fn find(
        &mut self,
        account_id: String,
        prefix: Option<String>,
        name: String,
    ) -> R<Option<types::Label>> {
        self.db()?
            .labels()
            .find(&account_id, prefix.as_deref(), &name)
            .map_err(err)
    }

    fn put(&mut self, account_id: String, l: types::Label) -> R<()> {
        self.db()?.labels().put(&account_id, &l).map_err(err)?;
        let label = label_name(l.prefix.as_deref(), &l.name);
        self.audit.account("label set", &account_id, label);
        Ok(())
    }

    fn remove(&mut self, account_id: String, prefix: Option<String>, name: String) -> R<bool> {
        let removed = self
            .db()?
            .labels()
            .remove(&account_id, prefix.as_deref(), &name)
            .map_err(err)?;
        if removed {
            let label = label_name(prefix.as_deref(), &name);
            self.audit.account("label removed", &account_id, label);
        }
        Ok(removed)
    }
}
