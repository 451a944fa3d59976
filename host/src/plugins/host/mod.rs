//! The host side of the WIT store interfaces, one file per interface (named after it, as
//! wasmtime-wasi's are): each call runs on the request's transaction, and its writes are
//! noted for the audit trail. They work on [`StoreView`], the part of a guest's state they
//! need (as wasmtime-wasi's imports work on `WasiCtxView`); `runtime` serves `config` and
//! `log` on [`runtime::PluginView`].

mod account_lifecycle;
mod account_touch;
mod account_writer;
mod accounts;
mod attribute_store;
mod authority_store;
mod authority_writer;
mod certificate_store;
mod client_store;
mod group_metadata_store;
mod group_store;
mod group_writer;
mod label_store;
mod manager_store;
mod membership_store;
pub mod runtime;

use wasmtime::component::HasData;

use super::GuestState;
use crate::audit::Trail;
use crate::store::{Store, StoreError};

type R<T> = Result<T, String>;

/// What a store interface works with: the request's transaction (none for the policy,
/// which has no store imports) and the audit trail of the call's writes.
pub struct StoreView<'a> {
    conn: Option<&'a dyn Store>,
    audit: &'a mut Trail,
}

/// Links a store interface over [`StoreView`].
pub struct HasStore;

impl HasData for HasStore {
    type Data<'a> = StoreView<'a>;
}

impl GuestState {
    pub fn store_view(&mut self) -> StoreView<'_> {
        StoreView {
            conn: self.conn.as_deref(),
            audit: &mut self.audit,
        }
    }
}

impl StoreView<'_> {
    fn db(&self) -> R<&dyn Store> {
        self.conn
            .ok_or_else(|| "this plugin slot has no database access".to_string())
    }
}

fn err(e: StoreError) -> String {
    format!("database error: {e}")
}
