//! The contract check: which interfaces each slot exports and may import, read from a
//! component's own type before anything is linked, so a misfit is refused with a message
//! that names the slot and the missing or unexpected item.

use anyhow::{Result, bail};
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use crate::slots::{
    PACKAGE, VERSION, WRITE_INTERFACES, export_of, functions_of, imports_of, interface_declaring,
    slots_importing,
};

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
    /// The functions the component takes from each imported instance, by import name.
    pub imported_functions: Vec<(String, Vec<String>)>,
}

impl Shape {
    pub fn of(engine: &Engine, component: &Component) -> Shape {
        let ty = component.component_type();
        let mut imported_functions = Vec::new();
        for (name, item) in ty.imports(engine) {
            if let ComponentItem::ComponentInstance(instance) = item.ty {
                let funcs = instance
                    .exports(engine)
                    .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentFunc(_)))
                    .map(|(f, _)| f.to_string())
                    .collect();
                imported_functions.push((name.to_string(), funcs));
            }
        }
        Shape {
            imports: ty.imports(engine).map(|(n, _)| n.to_string()).collect(),
            exports: ty.exports(engine).map(|(n, _)| n.to_string()).collect(),
            imported_functions,
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

    /// Whether the component fits `slot`; the error says why not, naming the slot and the
    /// interface or function that does not fit.
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
                    "imports {name}, which the '{slot}' slot does not provide (it provides: {}); {}",
                    allowed.join(", "),
                    who_gets(iface)
                ),
                Some((iface, _)) => self.check_functions(slot, name, iface)?,
                None if name.starts_with("wasi:") => {}
                None => bail!(
                    "imports {name}, which this host does not provide (only {PACKAGE} \
                     interfaces and WASI)"
                ),
            }
        }
        Ok(())
    }

    /// Every function the component takes from contract interface `iface` (imported as
    /// `name`) must be one the interface has: a component built against an older layout
    /// (say, `accounts.update` before account writes moved to `account-writer`) is told
    /// where the function went and whether its slot gets it.
    fn check_functions(&self, slot: &str, name: &str, iface: &str) -> Result<()> {
        let Some(ours) = functions_of(iface) else {
            return Ok(()); // `types` has no functions
        };
        let theirs = self
            .imported_functions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.as_slice())
            .unwrap_or_default();
        for func in theirs {
            if ours.contains(&func.as_str()) {
                continue;
            }
            match interface_declaring(func, iface) {
                Some(home) if imports_of(slot).contains(&home) => bail!(
                    "imports function '{func}' from {name}, which has no such function: it is \
                     in {PACKAGE}/{home}, which the '{slot}' slot provides (import it from there)"
                ),
                Some(home) => bail!(
                    "imports function '{func}' from {name}, which has no such function: it is \
                     in {PACKAGE}/{home}, which the '{slot}' slot does not provide; {}",
                    who_gets(home)
                ),
                None => {
                    bail!("imports function '{func}' from {name}, which this host does not provide")
                }
            }
        }
        Ok(())
    }
}

/// Which slots get interface `iface` and, for a write interface, what it allows.
fn who_gets(iface: &str) -> String {
    let slots = slots_importing(iface);
    let holders = if slots.is_empty() {
        "no slot gets it".to_string()
    } else {
        let quoted: Vec<String> = slots.iter().map(|s| format!("'{s}'")).collect();
        match quoted.split_last() {
            Some((only, [])) => format!("only the {only} slot gets it"),
            Some((last, rest)) => format!("only the {} and {last} slots get it", rest.join(", ")),
            None => unreachable!(),
        }
    };
    match WRITE_INTERFACES.iter().find(|(i, _)| *i == iface) {
        Some((_, what)) => format!("{iface} {what}, and {holders}"),
        None => holders,
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
            imported_functions: Vec::new(),
        }
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

    #[test]
    fn a_function_from_the_wrong_interface_is_named_with_where_it_lives() {
        let mut old = shape(&["iam:plugin/accounts@0.1.0"], &["iam:plugin/labels@0.1.0"]);
        old.imported_functions = vec![(
            "iam:plugin/accounts@0.1.0".into(),
            vec!["get".into(), "update".into()],
        )];
        let e = old.check("labels").unwrap_err().to_string();
        assert!(
            e.contains("function 'update'")
                && e.contains("iam:plugin/account-writer")
                && e.contains("the 'labels' slot does not provide")
                && e.contains("only the 'scim' slot gets it"),
            "{e}"
        );
        // The same component fits where the function's interface is provided... if it
        // imports it from there.
        let e = old.check_functions("scim", "iam:plugin/accounts@0.1.0", "accounts");
        let e = e.unwrap_err().to_string();
        assert!(e.contains("which the 'scim' slot provides"), "{e}");
        old.imported_functions[0].1.pop();
        old.check("labels").unwrap();
    }

    /// componentize-py copies WIT doc comments into Python docstrings as they are, where
    /// `\u`, `\U`, `\N` and `\x` start escapes: one that is not well formed is a syntax
    /// error in every Python plugin.
    #[test]
    fn the_wit_docs_survive_python_docstrings() {
        for (file, wit) in [
            ("types.wit", include_str!("../../../wit/types.wit")),
            ("store.wit", include_str!("../../../wit/store.wit")),
            ("runtime.wit", include_str!("../../../wit/runtime.wit")),
            ("worlds.wit", include_str!("../../../wit/worlds.wit")),
        ] {
            for (n, line) in wit.lines().enumerate() {
                for escape in ["\\u", "\\U", "\\N", "\\x"] {
                    assert!(!line.contains(escape), "{file}:{}: {line}", n + 1);
                }
            }
        }
    }
}
