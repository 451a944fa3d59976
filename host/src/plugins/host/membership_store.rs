//! `membership-store`: who is in which group.

use super::{R, StoreView, err};
use crate::contract::iam::plugin::membership_store;

impl membership_store::Host for StoreView<'_> {
    fn ancestors(&mut self, group_id: String) -> R<Vec<String>> {
        self.db()?.memberships().ancestors(&group_id).map_err(err)
    }

    fn descendants(&mut self, group_id: String) -> R<Vec<String>> {
        self.db()?.memberships().descendants(&group_id).map_err(err)
    }

    fn add(&mut self, account_id: String, group_id: String) -> R<bool> {
        let added = self
            .db()?
            .memberships()
            .add(&account_id, &group_id)
            .map_err(err)?;
        if added {
            self.audit.both("membership added", &account_id, &group_id);
        }
        Ok(added)
    }

    fn remove(&mut self, account_id: String, group_id: String) -> R<bool> {
        let removed = self
            .db()?
            .memberships()
            .remove(&account_id, &group_id)
            .map_err(err)?;
        if removed {
            self.audit
                .both("membership removed", &account_id, &group_id);
        }
        Ok(removed)
    }
}
