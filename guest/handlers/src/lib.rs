//! The default handler components, one module per handler group. Each module binds its
//! group's world (`<group>-handler` in `wit/worlds.wit`) to `iam_guest_logic::<group>` and
//! the host's store.
//!
//! Every `src/<group>.rs` is a group's module; `build.rs` declares them. `iam-guest-build`
//! builds this crate once per group with that group's module alone, so a component exports
//! one group's interface and imports only the store interfaces that group's logic calls;
//! the host checks that at load like any site's component. Natively (tests, clippy) every
//! group is compiled, and nothing is exported.

include!(concat!(env!("OUT_DIR"), "/groups.rs"));
