//! The rules of the default guests, in plain Rust: the `roles` policy, validation, and the
//! handlers' business logic written against the store traits of [`store`]. The Wasm
//! components in `guest/` are thin wrappers that bind these to the WIT contract; the same
//! code runs natively in this crate's unit tests.

pub mod attributes;
pub mod authorities;
pub mod certificates;
pub mod clients;
pub mod find;
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

// The contract's shared types, generated once here from `wit/` and reused by every
// component through wit-bindgen's `with` option, so the logic and the bindings agree.
wit_bindgen::generate!({
    path: "../../wit",
    inline: "package iam:logic; world types { import iam:plugin/types@0.1.0; }",
    world: "iam:logic/types",
    additional_derives: [PartialEq],
    generate_all,
});

pub use iam::plugin::types;
