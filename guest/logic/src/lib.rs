//! The rules of the default guests, in plain Rust: the `roles` policy, validation, and the
//! handlers' business logic written against the store traits of [`store`], which
//! `build.rs` generates from `wit/store.wit`. The Wasm components in `guest/` are thin
//! wrappers that bind these to the WIT contract; the same code runs natively in this
//! crate's unit tests.

pub mod attributes;
pub mod authorities;
pub mod certificates;
pub mod clients;
pub mod find;
pub mod group_metadata;
pub mod groups;
pub mod labels;
pub mod lifecycle;
pub mod managers;
pub mod paging;
pub mod policy;
pub mod scim;
pub mod search;
pub mod store;
pub mod validation;

#[cfg(test)]
mod fake_store;

/// The contract's types and the store imports, generated once here from `wit/` (the world
/// is written by `build.rs`: every interface of `wit/store.wit`) and reused by every
/// component through wit-bindgen's `with` option, so the logic and the bindings agree.
pub mod bindings {
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

pub use bindings::iam::plugin::types;
