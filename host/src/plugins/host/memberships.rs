//! `membership-store`: who is in which group.

use super::{R, StoreView, err};
use crate::contract::iam::plugin::membership_store;
use crate::store;

impl membership_store::Host for StoreView<'_> {
    fn ancestors(&mut self, group_id: String) -> R<Vec<String>> {
        store::memberships::ancestors(self.db()?, &group_id).map_err(err)
    }

    fn descendants(&mut self, group_id: String) -> R<Vec<String>> {
        store::memberships::descendants(self.db()?, &group_id).map_err(err)
    }

    fn add(&mut self, account_id: String, group_id: String) -> R<bool> {
        let added = store::memberships::add(self.db()?, &account_id, &group_id).map_err(err)?;
        if added {
            self.audit.both("membership added", &account_id, &group_id);
        }
        Ok(added)
    }

    fn remove(&mut self, account_id: String, group_id: String) -> R<bool> {
        let removed =
            store::memberships::remove(self.db()?, &account_id, &group_id).map_err(err)?;
        if removed {
            self.audit
                .both("membership removed", &account_id, &group_id);
        }
        Ok(removed)
    }
}
