//! The default handler components, one module per handler group. Each module binds its
//! group's world (`<group>-handler` in `wit/worlds.wit`) to `iam_guest_logic::<group>` and
//! the host's store.
//!
//! A cargo feature per group compiles its module in. `iam-guest-build` builds this crate
//! once per group with only that group's feature, so a component exports one group's
//! interface and imports only the store interfaces that group's logic calls; the host
//! checks that at load like any site's component. Natively (tests, clippy) the default
//! features compile every group, and nothing is exported.

#[cfg(feature = "attributes")]
mod attributes;
#[cfg(feature = "authorities")]
mod authorities;
#[cfg(feature = "certificates")]
mod certificates;
#[cfg(feature = "clients")]
mod clients;
#[cfg(feature = "find")]
mod find;
#[cfg(feature = "group-metadata")]
mod group_metadata;
#[cfg(feature = "groups")]
mod groups;
#[cfg(feature = "labels")]
mod labels;
#[cfg(feature = "lifecycle")]
mod lifecycle;
#[cfg(feature = "managers")]
mod managers;
#[cfg(feature = "scim")]
mod scim;
#[cfg(feature = "search")]
mod search;
