//! Build step: reads the plugin slots from the contract's WIT (`wit/`) with `wit-parser` and
//! writes `$OUT_DIR/slots.rs`, the slot registry the host includes (`src/slots.rs`). The
//! worlds of `worlds.wit` are the only place the slots are written down: their names, the
//! interface each exports and the interfaces each may import all come from there.
//!
//! The rules: every world of the package is a slot except `host-view` (the host's own
//! view, which includes them all); the world `policy` is the policy slot and comes first;
//! a world `<group>-handler` is the handler slot `<group>`. Slots keep the order of their
//! worlds in `worlds.wit`. A slot's imports are the package's interfaces its world imports:
//! first the ones the others `use` (`types`), then the world's own, in the world's order.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use wit_parser::{Resolve, WorldItem, WorldKey};

/// The world that is not a slot.
const HOST_VIEW: &str = "host-view";
/// The policy slot's world (and name).
const POLICY: &str = "policy";
/// The files whose interfaces a slot may import, and what the host serves them from:
/// the request's database transaction (`store`) or the plugin's own runtime (`runtime`).
/// Listed in this order in the registry.
const IMPORT_FILES: &[(&str, &str)] = &[("store.wit", "store"), ("runtime.wit", "runtime")];

struct Slot {
    name: String,
    world: String,
    export: String,
    imports: Vec<String>,
}

struct Import {
    name: String,
    functions: Vec<String>,
    /// `store` or `runtime` (see [`IMPORT_FILES`]).
    kind: &'static str,
}

/// Generates the registry from `wit/` into `$OUT_DIR/slots.rs`; gives the handler groups,
/// in order, for the build's other steps.
pub fn generate() -> Vec<String> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let wit_dir = Path::new(&manifest).join("../wit");
    let out = Path::new(&std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("slots.rs");
    let mut resolve = Resolve::default();
    let (pkg, sources) = resolve
        .push_dir(&wit_dir)
        .unwrap_or_else(|e| panic!("{}: {}", wit_dir.display(), resolve.render_error(&e)));
    for path in sources.paths() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let package = &resolve.packages[pkg];
    let version = package
        .name
        .version
        .as_ref()
        .expect("the contract's package has a version");

    let iface_name = |id| {
        let iface = &resolve.interfaces[id];
        (iface.package == Some(pkg)).then(|| iface.name.clone().expect("a named interface"))
    };
    let mut slots = Vec::new();
    for (world_name, &id) in &package.worlds {
        if world_name == HOST_VIEW {
            continue;
        }
        let name = match world_name.strip_suffix("-handler") {
            Some(group) => group,
            None if world_name == POLICY => POLICY,
            None => panic!(
                "worlds.wit: world `{world_name}` is neither `{POLICY}`, `<group>-handler` \
                 nor `{HOST_VIEW}`"
            ),
        };
        let world = &resolve.worlds[id];
        let interfaces = |items: &wit_parser::IndexMap<WorldKey, WorldItem>| -> Vec<_> {
            items
                .iter()
                .map(|(key, item)| match (key, item) {
                    (WorldKey::Interface(_), WorldItem::Interface { id, .. }) => *id,
                    _ => panic!(
                        "world `{world_name}`: only interfaces of the contract may be imported \
                         or exported, by name"
                    ),
                })
                .collect()
        };
        let name_of = |id| {
            iface_name(id).unwrap_or_else(|| {
                panic!("world `{world_name}` uses an interface of another package")
            })
        };
        let exports = interfaces(&world.exports);
        let export = match exports.as_slice() {
            [one] => name_of(*one),
            other => panic!(
                "world `{world_name}` must export one interface, not {}",
                other.len()
            ),
        };
        // The interfaces the others `use` (`types`) first, then the world's own imports.
        let imports = interfaces(&world.imports);
        let used: BTreeSet<_> = imports
            .iter()
            .chain(&exports)
            .flat_map(|&i| resolve.interface_direct_deps(i))
            .collect();
        let (shared, own): (Vec<_>, Vec<_>) = imports.into_iter().partition(|i| used.contains(i));
        slots.push(Slot {
            name: name.to_string(),
            world: world_name.clone(),
            export,
            imports: shared.into_iter().chain(own).map(name_of).collect(),
        });
    }
    assert!(
        slots.first().is_some_and(|s| s.name == POLICY),
        "worlds.wit: the first world must be `{POLICY}`"
    );
    let host_view = &resolve.worlds[package.worlds[HOST_VIEW]];
    let mut names = BTreeSet::new();
    for slot in &slots {
        assert!(names.insert(&slot.name), "two slots named `{}`", slot.name);
        assert!(
            host_view
                .exports
                .keys()
                .any(|k| key_is(&resolve, k, &slot.export)),
            "`{HOST_VIEW}` does not include the world `{}`",
            slot.world
        );
    }

    // Every interface some slot may import that has functions, by file, in file order.
    let imported: BTreeSet<&str> = slots
        .iter()
        .flat_map(|s| s.imports.iter().map(String::as_str))
        .collect();
    let mut imports: Vec<(usize, usize, Import)> = Vec::new();
    for (name, &id) in &package.interfaces {
        let iface = &resolve.interfaces[id];
        if !imported.contains(name.as_str()) || iface.functions.is_empty() {
            continue;
        }
        let location = resolve
            .source_map
            .resolve_span(iface.span)
            .expect("interfaces have a location");
        let file = Path::new(location.path)
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        let Some(rank) = IMPORT_FILES.iter().position(|(f, _)| *f == file) else {
            panic!("interface `{name}` is imported by a slot but declared in {file}");
        };
        imports.push((
            rank,
            location.range.start,
            Import {
                name: name.clone(),
                functions: iface.functions.keys().cloned().collect(),
                kind: IMPORT_FILES[rank].1,
            },
        ));
    }
    imports.sort_by_key(|(rank, at, _)| (*rank, *at));
    let imports: Vec<Import> = imports.into_iter().map(|(_, _, i)| i).collect();

    let code = render(
        &format!("{}:{}", package.name.namespace, package.name.name),
        &version.to_string(),
        &slots,
        &imports,
    );
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("write {}: {e}", out.display()));
    slots.into_iter().skip(1).map(|s| s.name).collect()
}

fn key_is(resolve: &Resolve, key: &WorldKey, name: &str) -> bool {
    match key {
        WorldKey::Interface(id) => resolve.interfaces[*id].name.as_deref() == Some(name),
        WorldKey::Name(n) => n == name,
    }
}

/// A WIT name as a Rust identifier, as `bindgen!` spells module names.
fn ident(name: &str) -> String {
    name.replace('-', "_")
}

fn render(package: &str, version: &str, slots: &[Slot], imports: &[Import]) -> String {
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(
        w,
        "// Generated by host/build/slots.rs from wit/: do not edit.\n"
    );
    let _ = writeln!(w, "/// The contract's WIT package.");
    let _ = writeln!(w, "pub const PACKAGE: &str = {package:?};");
    let _ = writeln!(w, "/// The contract version this host implements.");
    let _ = writeln!(w, "pub const VERSION: &str = {version:?};\n");
    let _ = writeln!(
        w,
        "/// Every slot, in the order of its world in `worlds.wit`."
    );
    let _ = writeln!(w, "pub const SLOTS: &[SlotDef] = &[");
    for slot in slots {
        let _ = writeln!(
            w,
            "    SlotDef {{ name: {:?}, world: {:?}, export: {:?}, imports: &{:?} }},",
            slot.name, slot.world, slot.export, slot.imports
        );
    }
    let _ = writeln!(w, "];\n");
    let _ = writeln!(
        w,
        "/// The functions of every interface a slot may import (`store.wit`'s, then\n\
         /// `runtime.wit`'s): `(interface, functions)`."
    );
    let _ = writeln!(w, "pub const FUNCTIONS: &[(&str, &[&str])] = &[");
    for i in imports {
        let _ = writeln!(w, "    ({:?}, &{:?}),", i.name, i.functions);
    }
    let _ = writeln!(w, "];\n");

    let _ = writeln!(
        w,
        "/// Calls `$m!` with the policy slot, then every handler slot, each as\n\
         /// `<field> <name> <module of its export>`."
    );
    let _ = writeln!(
        w,
        "macro_rules! for_each_slot {{\n    ($m:ident) => {{\n        $m! {{"
    );
    let policy = &slots[0];
    let _ = writeln!(
        w,
        "            policy: {} {:?} {};",
        ident(&policy.name),
        policy.name,
        ident(&policy.export)
    );
    let _ = writeln!(w, "            handlers:");
    for slot in &slots[1..] {
        let _ = writeln!(
            w,
            "                {} {:?} {},",
            ident(&slot.name),
            slot.name,
            ident(&slot.export)
        );
    }
    let _ = writeln!(
        w,
        "        }}\n    }};\n}}\npub(crate) use for_each_slot;\n"
    );

    let _ = writeln!(
        w,
        "/// Calls `$m!` with every interface a slot may import that has functions, each as\n\
         /// `<kind> <name> <module>`: `store` interfaces run on the request's transaction,\n\
         /// `runtime` ones on the plugin's own settings and log."
    );
    let _ = writeln!(
        w,
        "macro_rules! for_each_import {{\n    ($m:ident) => {{\n        $m! {{"
    );
    for i in imports {
        let _ = writeln!(w, "            {} {:?} {},", i.kind, i.name, ident(&i.name));
    }
    let _ = writeln!(
        w,
        "        }}\n    }};\n}}\npub(crate) use for_each_import;"
    );
    s
}
