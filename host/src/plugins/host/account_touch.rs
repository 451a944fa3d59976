//! `account-touch`: marks an account modified (sets its `last-modified` to now).

use super::{R, StoreView, err};
use crate::contract::iam::plugin::account_touch;

impl account_touch::Host for StoreView<'_> {
    fn touch(&mut self, id: String) -> R<()> {
        self.db()?.accounts().touch(&id).map_err(err)
    }
}
