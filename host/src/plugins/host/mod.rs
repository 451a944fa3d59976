//! The host side of the WIT store interfaces, one file per domain: each call runs on the
//! request's transaction, and its writes are noted for the audit trail.

mod accounts;
mod attributes;
mod authorities;
mod certificates;
mod clients;
mod groups;
mod labels;
mod memberships;
pub mod runtime;

use super::GuestState;
use crate::contract::iam::plugin::types;
use crate::store::{Store, StoreError};

type R<T> = Result<T, String>;

impl GuestState {
    fn db(&self) -> R<&dyn Store> {
        self.conn
            .as_deref()
            .ok_or_else(|| "this plugin slot has no database access".to_string())
    }
}

impl GuestState {
    /// The account with this UUID, when there is one.
    fn account_of(&self, uuid: Option<String>) -> R<Option<types::Account>> {
        match uuid {
            Some(u) => self.db()?.accounts().by_uuid(&u).map_err(err),
            None => Ok(None),
        }
    }
}

fn err(e: StoreError) -> String {
    format!("database error: {e}")
}

impl types::Host for GuestState {}
