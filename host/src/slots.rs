//! The slot registry: every place a component fills, with its world, the interface it
//! exports and the interfaces it may import. `build.rs` reads it from the contract's worlds
//! (`wit/worlds.wit`, see `build/slots.rs`), so the WIT is the one place the slots are
//! written down; the config keys, the slot check, the linker, the plugin set, the admin
//! endpoint, the metrics and the docs' slot table all derive from this module.

/// One slot.
#[derive(Debug)]
pub struct SlotDef {
    /// Its name: `policy`, or a handler group (`attributes`, `labels`, ...). A handler slot
    /// is configured as `[plugins.handlers.<name>]`.
    pub name: &'static str,
    /// Its world in `worlds.wit`: `policy` or `<name>-handler` (for the docs and tests; the
    /// host goes by the slot's name).
    #[cfg_attr(not(test), allow(dead_code))]
    pub world: &'static str,
    /// The interface its component must export.
    pub export: &'static str,
    /// The contract interfaces its component may import (least privilege).
    pub imports: &'static [&'static str],
}

include!(concat!(env!("OUT_DIR"), "/slots.rs"));

/// The policy slot's name; the policy is the first slot.
pub const POLICY: &str = "policy";
/// The candidate policy, which fills a second policy slot beside the enforcing one and is
/// never enforced: configured as `[plugins] policy_shadow`, shown and counted under this
/// name.
pub const POLICY_SHADOW: &str = "policy_shadow";

/// The interfaces that change accounts, groups or authorities beyond what a slot's own
/// domain store does, with what holding one allows: named in a refusal, so the operator
/// sees why it matters. (Which slots get one follows from their worlds.)
pub const WRITE_INTERFACES: &[(&str, &str)] = &[
    ("account-touch", "marks accounts modified"),
    (
        "account-lifecycle",
        "sets end times, suspends and deletes accounts",
    ),
    (
        "account-writer",
        "creates accounts and changes usernames, e-mails, passwords and linked identities",
    ),
    ("group-writer", "creates, renames and deletes groups"),
    (
        "authority-writer",
        "grants and revokes any authority, ROLE_ADMIN included",
    ),
    (
        "manager-store",
        "appoints and dismisses group managers (ROLE_GM:<uuid> only)",
    ),
];

/// Every slot's name, in order: the policy, then the handler groups.
pub fn slots() -> impl Iterator<Item = &'static str> {
    SLOTS.iter().map(|s| s.name)
}

/// The handler groups: every slot but the policy, in order.
pub fn handler_groups() -> impl Iterator<Item = &'static str> {
    slots().filter(|s| *s != POLICY)
}

/// The slot named `name`.
pub fn slot(name: &str) -> Option<&'static SlotDef> {
    SLOTS.iter().find(|s| s.name == name)
}

fn known(name: &str) -> &'static SlotDef {
    slot(name).unwrap_or_else(|| unreachable!("no slot named {name}"))
}

/// The interface a slot's component must export.
pub fn export_of(slot: &str) -> &'static str {
    known(slot).export
}

/// The contract interfaces a slot's component may import.
pub fn imports_of(slot: &str) -> &'static [&'static str] {
    known(slot).imports
}

/// The slots that may import `iface`, in slot order.
pub fn slots_importing(iface: &str) -> Vec<&'static str> {
    SLOTS
        .iter()
        .filter(|s| s.imports.contains(&iface))
        .map(|s| s.name)
        .collect()
}

/// The functions of an interface a slot may import (none for `types`).
pub fn functions_of(iface: &str) -> Option<&'static [&'static str]> {
    FUNCTIONS
        .iter()
        .find(|(i, _)| *i == iface)
        .map(|(_, funcs)| *funcs)
}

/// Where the contract declares function `func` (other than in `except`), if anywhere.
pub fn interface_declaring(func: &str, except: &str) -> Option<&'static str> {
    FUNCTIONS
        .iter()
        .find(|(iface, funcs)| *iface != except && funcs.contains(&func))
        .map(|(iface, _)| *iface)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry `build.rs` read with `wit-parser` and a plain reading of `worlds.wit`
    /// agree: the same worlds in the same order, each with the imports it lists (and
    /// `types`, which the interfaces `use`).
    #[test]
    fn the_registry_is_the_worlds() {
        let wit = include_str!("../../wit/worlds.wit");
        assert!(wit.starts_with(&format!("package {PACKAGE}@{VERSION};")));
        assert_eq!(SLOTS[0].name, POLICY);
        let mut last = 0;
        for slot in SLOTS {
            let header = format!("\nworld {} {{\n", slot.world);
            let at = wit
                .find(&header)
                .unwrap_or_else(|| panic!("no world {}", slot.world));
            assert!(at > last, "{} is out of order", slot.world);
            last = at;
            let body = wit[at + header.len()..].split("\n}").next().unwrap();
            let listed = |kind: &str| -> Vec<&str> {
                body.lines()
                    .filter_map(|l| l.trim().strip_prefix(kind))
                    .map(|l| l.trim_end_matches(';'))
                    .collect()
            };
            let mut imports = vec!["types"];
            imports.extend(listed("import "));
            assert_eq!(slot.imports, imports, "{slot:?}");
            assert_eq!(listed("export "), [slot.export], "{slot:?}");
            let name = slot.world.strip_suffix("-handler").unwrap_or(slot.world);
            assert_eq!(slot.name, name);
        }
        assert_eq!(
            wit.matches("\nworld ").count(),
            SLOTS.len() + 1,
            "host-view"
        );
        assert_eq!(functions_of("log"), Some(&["write"][..]));
        assert_eq!(functions_of("types"), None);
        assert_eq!(
            interface_declaring("update", "accounts"),
            Some("account-writer")
        );
    }

    #[test]
    fn only_the_slots_whose_endpoints_write_get_the_write_interfaces() {
        let expected: &[(&str, &[&str])] = &[
            (
                "account-touch",
                &[
                    "attributes",
                    "labels",
                    "groups",
                    "lifecycle",
                    "certificates",
                    "scim",
                ],
            ),
            ("account-lifecycle", &["lifecycle", "scim"]),
            ("account-writer", &["scim"]),
            ("group-writer", &["groups", "scim"]),
            ("authority-writer", &["authorities"]),
            ("manager-store", &["managers"]),
        ];
        assert_eq!(expected.len(), WRITE_INTERFACES.len());
        for (iface, slots) in expected {
            assert!(WRITE_INTERFACES.iter().any(|(i, _)| i == iface));
            assert!(functions_of(iface).is_some(), "{iface} is in the contract");
            assert_eq!(slots_importing(iface), *slots, "{iface}");
        }
        // And the read interfaces write nothing.
        let funcs = |iface: &str| {
            functions_of(iface).unwrap_or_else(|| panic!("no interface {iface} in the WIT"))
        };
        for write in [
            "create",
            "update",
            "delete",
            "set-active",
            "set-identities",
            "touch",
        ] {
            assert!(!funcs("accounts").contains(&write), "{write}");
        }
        for write in ["create", "rename", "delete", "set-description", "touch"] {
            assert!(!funcs("group-store").contains(&write), "{write}");
        }
        for write in ["grant", "revoke"] {
            assert!(!funcs("authority-store").contains(&write), "{write}");
        }
        assert!(funcs("account-writer").contains(&"update"));
        assert_eq!(funcs("log"), ["write"]);
    }

    /// The slot table of docs/plugins.md is this registry, rendered.
    #[test]
    fn the_docs_slot_table_is_the_registry() {
        let docs = include_str!("../../docs/plugins.md");
        let mut table = String::from(
            "| slot | world | exports | may import (besides `types`, `config`, `log`) |\n\
             |---|---|---|---|\n",
        );
        let quoted = |items: &[&str]| {
            items
                .iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for s in SLOTS {
            let name = if s.name == POLICY {
                format!("`{POLICY}` (and `policy_shadow`)")
            } else {
                format!("`{}`", s.name)
            };
            let rest: Vec<&str> = s
                .imports
                .iter()
                .copied()
                .filter(|i| !["types", "config", "log"].contains(i))
                .collect();
            let rest = if rest.is_empty() {
                "nothing else".to_string()
            } else {
                quoted(&rest)
            };
            table.push_str(&format!(
                "| {name} | `{}` | `{}` | {rest} |\n",
                s.world, s.export
            ));
        }
        assert!(
            docs.contains(&table),
            "docs/plugins.md's slot table should read:\n{table}"
        );
        // The write table names, for each write interface, the slots that get it.
        for (iface, _) in WRITE_INTERFACES {
            let row = docs
                .lines()
                .find(|l| l.starts_with(&format!("| `{iface}` |")))
                .unwrap_or_else(|| panic!("docs/plugins.md has no row for `{iface}`"));
            let holders = row.rsplit('|').nth(1).unwrap_or_default();
            let listed: Vec<&str> = holders
                .split(',')
                .map(|h| h.trim().trim_end_matches(" only").trim_matches('`'))
                .collect();
            assert_eq!(listed, slots_importing(iface), "{row}");
        }
    }
}
