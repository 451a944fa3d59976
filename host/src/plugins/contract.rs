//! The contract check: which interfaces each slot exports and may import, read from a
//! component's own type before anything is linked, so a misfit is refused with a message
//! that names the slot and the missing or unexpected item.

use anyhow::{Result, bail};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The WIT package of the contract and the version this host implements.
pub const PACKAGE: &str = "iam:plugin";
pub const VERSION: &str = "0.1.0";

/// Every slot, in the order they are listed: the policy, then the handler groups.
pub fn slots() -> impl Iterator<Item = &'static str> {
    std::iter::once("policy").chain(crate::config::HANDLER_GROUPS.iter().copied())
}

/// The interface a slot's component must export.
pub fn export_of(slot: &str) -> &str {
    match slot {
        "policy" => "authorizer",
        group => group,
    }
}

/// The contract interfaces a slot's component may import (least privilege: an `attributes`
/// plugin cannot reach authorities). The built-in components are held to the same rule.
pub fn imports_of(slot: &str) -> &'static [&'static str] {
    match slot {
        "policy" => &["types", "config", "log"],
        "attributes" => &["types", "config", "log", "accounts", "attribute-store"],
        "authorities" => &["types", "config", "log", "accounts", "authority-store"],
        "labels" | "lifecycle" => &["types", "config", "log", "accounts", "label-store"],
        "groups" | "scim" => &[
            "types",
            "config",
            "log",
            "accounts",
            "group-store",
            "membership-store",
        ],
        "managers" => &[
            "types",
            "config",
            "log",
            "accounts",
            "group-store",
            "authority-store",
        ],
        "search" | "find" => &["types", "config", "log", "accounts", "group-store"],
        "clients" => &["types", "config", "log", "accounts", "client-store"],
        "certificates" => &["types", "config", "log", "accounts", "certificate-store"],
        other => unreachable!("no slot named {other}"),
    }
}

/// An `iam:plugin/<interface>@<version>` name, split.
fn contract_item(name: &str) -> Option<(&str, Option<&str>)> {
    let rest = name.strip_prefix(PACKAGE)?.strip_prefix('/')?;
    Some(match rest.split_once('@') {
        Some((iface, version)) => (iface, Some(version)),
        None => (rest, None),
    })
}

/// Whether a contract version is one this host serves: the same major version, and for
/// 0.x the same minor (semver's rule for pre-1.0 releases).
fn compatible(version: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64)> {
        let mut parts = v.split(['.', '-', '+']);
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    };
    match (parse(version), parse(VERSION)) {
        (Some((0, minor)), Some((0, ours))) => minor == ours,
        (Some((major, _)), Some((ours, _))) => major == ours,
        _ => false,
    }
}

/// What a component imports and exports.
pub struct Shape {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

impl Shape {
    pub fn of(engine: &Engine, component: &Component) -> Shape {
        let ty = component.component_type();
        Shape {
            imports: ty.imports(engine).map(|(n, _)| n.to_string()).collect(),
            exports: ty.exports(engine).map(|(n, _)| n.to_string()).collect(),
        }
    }

    /// The contract versions the component was built against.
    pub fn contract_versions(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .imports
            .iter()
            .chain(&self.exports)
            .filter_map(|n| contract_item(n).and_then(|(_, v)| v.map(String::from)))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Whether the component fits `slot`; the error says why not.
    pub fn check(&self, slot: &str) -> Result<()> {
        let export = export_of(slot);
        let exported = self.exports.iter().find_map(|n| {
            contract_item(n)
                .filter(|(iface, _)| *iface == export)
                .map(|(_, v)| v)
        });
        let Some(version) = exported else {
            bail!(
                "does not export {PACKAGE}/{export}@{VERSION}, the interface of the '{slot}' slot \
                 (it exports: {})",
                list(&self.exports)
            );
        };
        for v in self
            .contract_versions()
            .iter()
            .map(String::as_str)
            .chain(version)
        {
            if !compatible(v) {
                bail!(
                    "was built against contract {PACKAGE}@{v}; this host implements \
                     {PACKAGE}@{VERSION}"
                );
            }
        }
        let allowed = imports_of(slot);
        for name in &self.imports {
            match contract_item(name) {
                Some((iface, _)) if !allowed.contains(&iface) => bail!(
                    "imports {name}, which the '{slot}' slot does not provide (it provides: {})",
                    allowed.join(", ")
                ),
                Some(_) => {}
                None if name.starts_with("wasi:") => {}
                None => bail!(
                    "imports {name}, which this host does not provide (only {PACKAGE} \
                     interfaces and WASI)"
                ),
            }
        }
        Ok(())
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(imports: &[&str], exports: &[&str]) -> Shape {
        Shape {
            imports: imports.iter().map(|s| s.to_string()).collect(),
            exports: exports.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_wit_package_has_this_version() {
        let wit = include_str!("../../../wit/worlds.wit");
        assert!(wit.starts_with(&format!("package {PACKAGE}@{VERSION};")));
    }

    #[test]
    fn misfits_are_named() {
        let labels = shape(
            &[
                "iam:plugin/types@0.1.0",
                "iam:plugin/label-store@0.1.0",
                "wasi:io/streams@0.2.6",
            ],
            &["iam:plugin/labels@0.1.0"],
        );
        labels.check("labels").unwrap();
        let e = labels.check("attributes").unwrap_err().to_string();
        assert!(
            e.contains("does not export iam:plugin/attributes@0.1.0"),
            "{e}"
        );
        let greedy = shape(
            &["iam:plugin/authority-store@0.1.0"],
            &["iam:plugin/labels@0.1.0"],
        );
        let e = greedy.check("labels").unwrap_err().to_string();
        assert!(
            e.contains("imports iam:plugin/authority-store@0.1.0"),
            "{e}"
        );
        let future = shape(&[], &["iam:plugin/authorizer@0.2.0"]);
        let e = future.check("policy").unwrap_err().to_string();
        assert!(e.contains("contract iam:plugin@0.2.0"), "{e}");
        assert!(compatible("0.1.7") && !compatible("1.1.0"));
    }
}
