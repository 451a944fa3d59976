//! Authorities: `authority-store` (reads), `authority-writer` (any authority) and `manager-store` (group-manager authorities only).

use super::{R, StoreView, err};
use crate::contract::iam::plugin::{authority_store, authority_writer, manager_store};

impl authority_store::Host for StoreView<'_> {
    fn of_account(&mut self, account_id: String) -> R<Vec<String>> {
        self.db()?
            .authorities()
            .of_account(&account_id)
            .map_err(err)
    }

    fn exists(&mut self, authority: String) -> R<bool> {
        self.db()?.authorities().exists(&authority).map_err(err)
    }
}

impl authority_writer::Host for StoreView<'_> {
    fn grant(&mut self, account_id: String, authority: String) -> R<bool> {
        let granted = self
            .db()?
            .authorities()
            .grant(&account_id, &authority)
            .map_err(err)?;
        if granted {
            self.audit
                .account("authority added", &account_id, authority);
        }
        Ok(granted)
    }

    /// Logged even when the account did not hold the authority, as INDIGO IAM does.
    fn revoke(&mut self, account_id: String, authority: String) -> R<bool> {
        let revoked = self
            .db()?
            .authorities()
            .revoke(&account_id, &authority)
            .map_err(err)?;
        self.audit
            .account("authority removed", &account_id, authority);
        Ok(revoked)
    }
}

/// Only `ROLE_GM:<group>`: whatever the group id holds, the authority it spells starts
/// with `ROLE_GM:`, and only a group's own authority has that name.
impl manager_store::Host for StoreView<'_> {
    fn appoint(&mut self, account_id: String, group_id: String) -> R<bool> {
        authority_writer::Host::grant(self, account_id, format!("ROLE_GM:{group_id}"))
    }

    /// Logged even when the account did not manage the group, as INDIGO IAM does.
    fn dismiss(&mut self, account_id: String, group_id: String) -> R<bool> {
        authority_writer::Host::revoke(self, account_id, format!("ROLE_GM:{group_id}"))
    }
}
