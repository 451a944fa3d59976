//! The default handler components, one module per handler group. Each module binds its
//! group's world (`<group>-handler` in `wit/worlds.wit`) to `iam_guest_logic::<group>` and
//! the host's store.
//!
//! `iam-guest-build` builds this crate once per group, and `build.rs` then sets the cfg
//! `handler = "<module>"` so that only that group's module is compiled: a component exports
//! one group's interface and imports only the store interfaces that group's logic calls;
//! the host checks that at load like any site's component. Natively (tests, clippy)
//! `all_handlers` compiles every group, and nothing is exported.

#[cfg(any(all_handlers, handler = "attributes"))]
mod attributes;
#[cfg(any(all_handlers, handler = "authorities"))]
mod authorities;
#[cfg(any(all_handlers, handler = "certificates"))]
mod certificates;
#[cfg(any(all_handlers, handler = "clients"))]
mod clients;
#[cfg(any(all_handlers, handler = "find"))]
mod find;
#[cfg(any(all_handlers, handler = "group_metadata"))]
mod group_metadata;
#[cfg(any(all_handlers, handler = "groups"))]
mod groups;
#[cfg(any(all_handlers, handler = "labels"))]
mod labels;
#[cfg(any(all_handlers, handler = "lifecycle"))]
mod lifecycle;
#[cfg(any(all_handlers, handler = "managers"))]
mod managers;
#[cfg(any(all_handlers, handler = "scim"))]
mod scim;
#[cfg(any(all_handlers, handler = "search"))]
mod search;
