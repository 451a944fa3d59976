//! `authority-store`: reads of the authorities accounts hold; changes nothing.

use super::{R, StoreView, err};
use crate::contract::iam::plugin::authority_store;

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
