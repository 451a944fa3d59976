//! `account-lifecycle`: ending accounts: end times, suspension and restoration, deletion.

use super::{R, StoreView, err};
use crate::contract::iam::plugin::account_lifecycle;

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
