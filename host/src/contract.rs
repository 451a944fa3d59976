//! The WIT contract's types, generated from `wit/`: the ground floor every layer shares
//! (the store's rows, the principal auth builds, the operations HTTP parses and the
//! plugins' calls all use these types), so no layer reaches them through another.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "iam:plugin/host-view",
});

pub use iam::plugin::account_writer::AccountUpdate;
pub use iam::plugin::types;
