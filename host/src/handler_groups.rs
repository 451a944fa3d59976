/// The handler groups: a slot each, which a site may fill with its own component, and a
/// default component each, built from `guest/handlers` (package `iam-handlers`) with the
/// feature of the same name. `build.rs` reads this list too.
pub const HANDLER_GROUPS: &[&str] = &[
    "attributes",
    "authorities",
    "labels",
    "groups",
    "managers",
    "search",
    "lifecycle",
    "find",
    "clients",
    "certificates",
    "scim",
];
