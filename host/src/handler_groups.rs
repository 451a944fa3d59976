/// The handler groups: a slot each, which a site may fill with its own component, and a
/// default component each, built from `guest/handlers/<group>` (package
/// `iam-handler-<group>`). `build.rs` reads this list too.
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
