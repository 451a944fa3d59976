//! `manager-store`: appointing and dismissing group managers (`ROLE_GM:<group>` only).

use super::{R, StoreView};
use crate::contract::iam::plugin::{authority_writer, manager_store};

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
