//! `authority-writer`: granting and revoking any authority, `ROLE_ADMIN` included.

use super::{R, StoreView, err};
use crate::contract::iam::plugin::authority_writer;

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
