//! What the handlers need from the host's database, as traits. `build.rs` generates them
//! from the interfaces of `wit/store.wit`: a method per WIT function, with its name,
//! parameters and result, so the traits follow the contract and cannot drift from it.
//! One trait gathers a domain's interfaces (`Accounts`: `accounts`, `account-touch`,
//! `account-lifecycle` and `account-writer`). The records those interfaces declare
//! (`AccountCreate`, `ClientCreate`, ...) are wit-bindgen's, re-exported here.
//!
//! In a component the traits are implemented by [`HostStore`], generated too: each method
//! calls the import of the same name. In unit tests an in-memory fake implements them, and
//! in the host's benchmark build the database itself; a method an implementation leaves
//! out answers with a store error.

/// A failure of the database itself (its message is for logs): `store-error` in the WIT.
pub type StoreError = String;
pub type StoreResult<T> = Result<T, StoreError>;

/// The host's database, reached through the component's imports. A component links only
/// the imports its logic calls, so it imports only those interfaces: the attributes
/// handler cannot reach the authorities table, and only the handlers whose logic writes
/// accounts or groups import the write interfaces. The host checks this at load like any
/// site's component.
pub struct HostStore;

/// What a trait method the implementation leaves out answers.
fn not_offered(function: &str) -> StoreError {
    format!("this store does not offer `{function}`")
}

include!(concat!(env!("OUT_DIR"), "/store.rs"));
