//! Generates the logic's view of the host's database from the contract, so it cannot drift
//! from it: for every interface of `wit/store.wit`, the store trait its functions belong to
//! (its own, named after it, unless [`TRAITS`] groups it with others), the implementation of those traits over the component's imports
//! (`HostStore`), and the bindings of those imports. `src/store.rs` and `src/lib.rs`
//! include what this writes to `OUT_DIR`.
//!
//! A trait method has the name, parameters and result of its WIT function, in the types
//! wit-bindgen gives the import (a `string` parameter is `&str`, a record with strings
//! `&T`, a `result<T, store-error>` is `StoreResult<T>`), so `HostStore` forwards each call
//! unchanged, and anything this script gets wrong fails to compile there. A trait naming an
//! interface the WIT lacks, two functions of one trait with the same name, or a WIT type
//! this script does not know fail the build.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use wit_parser::{Function, FunctionKind, InterfaceId, Resolve, Type, TypeDefKind, TypeId};

/// The traits that gather several store interfaces: a domain's reads and writes, which the
/// WIT splits so that each slot imports no more than it needs (the split still holds in a
/// component, which imports only the interfaces whose functions its logic calls). Every
/// other interface is a trait of its own, named after it (`group-metadata-store` →
/// `GroupMetadataStore`).
const TRAITS: &[(&str, &[&str])] = &[
    (
        "Accounts",
        &[
            "accounts",
            "account-touch",
            "account-lifecycle",
            "account-writer",
        ],
    ),
    ("GroupStore", &["group-store", "group-writer"]),
    ("AuthorityStore", &["authority-store", "authority-writer"]),
];

/// The file whose interfaces are the store.
const STORE_FILE: &str = "store.wit";

/// Where the logic's wit-bindgen output lives (`src/lib.rs`).
const BINDINGS: &str = "crate::bindings";

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let wit = manifest.join("../../wit");
    println!("cargo:rerun-if-changed={}", wit.display());

    let mut resolve = Resolve::default();
    let (package, sources) = resolve
        .push_dir(&wit)
        .unwrap_or_else(|e| panic!("cannot read the WIT in {}: {e:?}", wit.display()));
    for file in sources.paths() {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let store: Vec<InterfaceId> = resolve.packages[package]
        .interfaces
        .values()
        .copied()
        .filter(|&id| defined_in(&resolve, id, STORE_FILE))
        .collect();
    let generator = Generator {
        resolve: &resolve,
        by_trait: group_by_trait(&resolve, &store),
    };

    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    write(&out.join("bindings.rs"), &generator.bindings(&store));
    write(&out.join("store.rs"), &generator.store(&store));
}

/// Whether the interface was declared in the WIT file named `file`.
fn defined_in(resolve: &Resolve, id: InterfaceId, file: &str) -> bool {
    // "path:line:column"
    let location = resolve.render_location(resolve.interfaces[id].span);
    let path = location.rsplitn(3, ':').nth(2).unwrap_or_default();
    Path::new(path).file_name().is_some_and(|name| name == file)
}

/// The store interfaces of each trait: those of [`TRAITS`], in its order, then a trait for
/// each interface no entry claims, in the WIT's order. Fails when a trait names an
/// interface the WIT lacks or another trait claims already.
fn group_by_trait(resolve: &Resolve, store: &[InterfaceId]) -> Vec<(String, Vec<InterfaceId>)> {
    let mut by_name: BTreeMap<&str, InterfaceId> = store
        .iter()
        .map(|&id| (interface_name(resolve, id), id))
        .collect();
    let mut traits: Vec<(String, Vec<InterfaceId>)> = TRAITS
        .iter()
        .map(|(name, interfaces)| {
            let ids = interfaces
                .iter()
                .map(|i| {
                    by_name.remove(i).unwrap_or_else(|| {
                        panic!(
                            "trait {name} names the interface `{i}`, which {STORE_FILE} does not \
                             declare (or another trait claims already): fix TRAITS in {}",
                            file!()
                        )
                    })
                })
                .collect();
            (name.to_string(), ids)
        })
        .collect();
    for &id in store {
        let name = interface_name(resolve, id);
        if by_name.remove(name).is_some() {
            traits.push((upper_camel(name), vec![id]));
        }
    }
    traits
}

fn interface_name(resolve: &Resolve, id: InterfaceId) -> &str {
    resolve.interfaces[id]
        .name
        .as_deref()
        .expect("a package's interfaces are named")
}

struct Generator<'a> {
    resolve: &'a Resolve,
    by_trait: Vec<(String, Vec<InterfaceId>)>,
}

impl Generator<'_> {
    /// The wit-bindgen invocation for a world importing every store interface (and, through
    /// them, `types`).
    fn bindings(&self, store: &[InterfaceId]) -> String {
        let mut world = String::from("package iam:logic; world store {");
        for &id in store {
            let name = self
                .resolve
                .id_of(id)
                .expect("a package's interfaces are named");
            write!(world, " import {name};").unwrap();
        }
        world.push_str(" }");
        format!(
            "// Generated by build.rs from wit/{STORE_FILE}.\n\
             wit_bindgen::generate!({{\n    \
                 path: \"../../wit\",\n    \
                 inline: {world:?},\n    \
                 world: \"iam:logic/store\",\n    \
                 additional_derives: [PartialEq],\n    \
                 generate_all,\n\
             }});\n"
        )
    }

    /// The traits, `HostStore`'s implementation of them, and the store interfaces' own
    /// types under their wit-bindgen names.
    fn store(&self, store: &[InterfaceId]) -> String {
        let mut src = format!("// Generated by build.rs from wit/{STORE_FILE}.\n");
        self.reexports(&mut src, store);
        for (name, interfaces) in &self.by_trait {
            self.trait_decl(&mut src, name, interfaces);
            self.host_impl(&mut src, name, interfaces);
        }
        src
    }

    /// `pub use` of each type a store interface defines (its records), so the logic names
    /// them `store::AccountCreate` and so on.
    fn reexports(&self, src: &mut String, store: &[InterfaceId]) {
        let mut seen = BTreeMap::new();
        for &iface in store {
            for (name, &ty) in &self.resolve.interfaces[iface].types {
                if matches!(self.resolve.types[ty].kind, TypeDefKind::Type(_)) {
                    continue; // `store-error` and the types `use`d from `types`
                }
                let here = interface_name(self.resolve, iface);
                if let Some(other) = seen.insert(upper_camel(name), here) {
                    panic!("`{name}` is declared by both `{other}` and `{here}`: rename one");
                }
                writeln!(src, "pub use {};", self.type_path(ty)).unwrap();
            }
        }
    }

    fn trait_decl(&self, src: &mut String, name: &str, interfaces: &[InterfaceId]) {
        let links: Vec<String> = interfaces
            .iter()
            .map(|&i| {
                format!(
                    "[`{}`]({})",
                    interface_name(self.resolve, i),
                    self.interface_path(i)
                )
            })
            .collect();
        writeln!(
            src,
            "\n/// The {} interface{} of `wit/{STORE_FILE}`.\n///\n/// A method the \
             implementation leaves out answers with a store error.",
            english_list(&links),
            if links.len() > 1 { "s" } else { "" },
        )
        .unwrap();
        writeln!(src, "#[allow(unused_variables)]\npub trait {name} {{").unwrap();
        for (iface, func) in self.functions(name, interfaces) {
            let qualified = format!("{}.{}", interface_name(self.resolve, iface), func.name);
            if let Some(docs) = func.docs.contents.as_deref() {
                doc_lines(src, "    ", docs);
                src.push_str("    ///\n");
            }
            writeln!(src, "    /// `{qualified}` in the WIT.").unwrap();
            writeln!(
                src,
                "    {} {{\n        Err(not_offered({qualified:?}))\n    }}",
                self.signature(iface, func)
            )
            .unwrap();
        }
        src.push_str("}\n");
    }

    fn host_impl(&self, src: &mut String, name: &str, interfaces: &[InterfaceId]) {
        writeln!(src, "\nimpl {name} for HostStore {{").unwrap();
        for (iface, func) in self.functions(name, interfaces) {
            let args: Vec<String> = func.params.iter().map(|p| snake(&p.name)).collect();
            writeln!(
                src,
                "    {} {{\n        {}::{}({})\n    }}",
                self.signature(iface, func),
                self.interface_path(iface),
                snake(&func.name),
                args.join(", ")
            )
            .unwrap();
        }
        src.push_str("}\n");
    }

    /// The functions of a trait's interfaces, in WIT order; their names must not collide.
    fn functions<'r>(
        &'r self,
        name: &str,
        interfaces: &[InterfaceId],
    ) -> Vec<(InterfaceId, &'r Function)> {
        let mut seen = BTreeMap::new();
        let mut all = Vec::new();
        for &iface in interfaces {
            for func in self.resolve.interfaces[iface].functions.values() {
                let here = interface_name(self.resolve, iface);
                if let Some(there) = seen.insert(func.name.as_str(), here) {
                    panic!(
                        "`{there}.{f}` and `{here}.{f}` would both be {name}::{m}: rename one, \
                         or put the interfaces in different traits (TRAITS in {})",
                        file!(),
                        f = func.name,
                        m = snake(&func.name),
                    );
                }
                all.push((iface, func));
            }
        }
        all
    }

    /// `fn name(&self, params) -> StoreResult<T>`.
    fn signature(&self, iface: InterfaceId, func: &Function) -> String {
        let qualified = format!("{}.{}", interface_name(self.resolve, iface), func.name);
        assert!(
            matches!(func.kind, FunctionKind::Freestanding),
            "`{qualified}`: only plain functions can be store functions"
        );
        let mut params = vec!["&self".to_string()];
        for p in &func.params {
            params.push(format!(
                "{}: {}",
                snake(&p.name),
                self.param(p.ty, &qualified)
            ));
        }
        format!(
            "fn {}({}) -> StoreResult<{}>",
            snake(&func.name),
            params.join(", "),
            self.store_result(func, &qualified)
        )
    }

    /// The `T` of a function's `result<T, store-error>`.
    fn store_result(&self, func: &Function, qualified: &str) -> String {
        let fail = || -> ! {
            panic!("`{qualified}` must return `result<_, store-error>` (a store function)")
        };
        let Some(Type::Id(id)) = func.result else {
            fail()
        };
        let TypeDefKind::Result(r) = &self.resolve.types[id].kind else {
            fail()
        };
        match r.err {
            Some(Type::Id(err))
                if self.resolve.types[err].name.as_deref() == Some("store-error")
                    && self.unalias(Type::Id(err)) == Type::String => {}
            _ => fail(),
        }
        r.ok.map_or_else(|| "()".to_string(), |ok| self.owned(ok, qualified))
    }

    /// A type as wit-bindgen passes it to an import: strings and lists borrowed, and a
    /// named type that holds any by reference.
    fn param(&self, ty: Type, at: &str) -> String {
        match self.unalias(ty) {
            Type::String => "&str".into(),
            Type::Id(id) => match &self.resolve.types[id].kind {
                TypeDefKind::Option(t) => format!("Option<{}>", self.param(*t, at)),
                TypeDefKind::List(t) => format!("&[{}]", self.owned(*t, at)),
                _ if self.has_list(Type::Id(id), at) => format!("&{}", self.owned(ty, at)),
                _ => self.owned(ty, at),
            },
            other => primitive(other, at),
        }
    }

    /// A type as wit-bindgen returns it from an import.
    fn owned(&self, ty: Type, at: &str) -> String {
        match self.unalias(ty) {
            Type::String => "String".into(),
            Type::Id(id) => match &self.resolve.types[id].kind {
                TypeDefKind::Option(t) => format!("Option<{}>", self.owned(*t, at)),
                TypeDefKind::List(t) => format!("Vec<{}>", self.owned(*t, at)),
                TypeDefKind::Record(_)
                | TypeDefKind::Variant(_)
                | TypeDefKind::Enum(_)
                | TypeDefKind::Flags(_) => self.type_path(id),
                other => panic!("`{at}` uses a WIT type this generator does not know: {other:?}"),
            },
            other => primitive(other, at),
        }
    }

    /// Whether a value of the type holds a string or list (and so is passed by reference).
    fn has_list(&self, ty: Type, at: &str) -> bool {
        let Type::Id(id) = self.unalias(ty) else {
            return ty == Type::String;
        };
        match &self.resolve.types[id].kind {
            TypeDefKind::List(_) => true,
            TypeDefKind::Option(t) => self.has_list(*t, at),
            TypeDefKind::Record(r) => r.fields.iter().any(|f| self.has_list(f.ty, at)),
            TypeDefKind::Variant(v) => v
                .cases
                .iter()
                .any(|c| c.ty.is_some_and(|t| self.has_list(t, at))),
            TypeDefKind::Tuple(t) => t.types.iter().any(|&t| self.has_list(t, at)),
            TypeDefKind::Result(r) => [r.ok, r.err]
                .into_iter()
                .flatten()
                .any(|t| self.has_list(t, at)),
            TypeDefKind::Enum(_) | TypeDefKind::Flags(_) => false,
            other => panic!("`{at}` uses a WIT type this generator does not know: {other:?}"),
        }
    }

    /// The type an alias (`type x = y`, or a `use`) stands for.
    fn unalias(&self, ty: Type) -> Type {
        match ty {
            Type::Id(id) => match self.resolve.types[id].kind {
                TypeDefKind::Type(t) => self.unalias(t),
                _ => ty,
            },
            _ => ty,
        }
    }

    /// The wit-bindgen path of a named type, in the module of the interface declaring it.
    fn type_path(&self, id: TypeId) -> String {
        let def = &self.resolve.types[id];
        let (wit_parser::TypeOwner::Interface(owner), Some(name)) = (def.owner, &def.name) else {
            panic!("a store type must be named and declared in an interface: {def:?}")
        };
        format!("{}::{}", self.interface_path(owner), upper_camel(name))
    }

    /// The wit-bindgen module of an interface: `crate::bindings::<namespace>::<package>::<name>`.
    fn interface_path(&self, id: InterfaceId) -> String {
        let iface = &self.resolve.interfaces[id];
        let package = &self.resolve.packages[iface.package.expect("a package's interface")].name;
        format!(
            "{BINDINGS}::{}::{}::{}",
            snake(&package.namespace),
            snake(&package.name),
            snake(interface_name(self.resolve, id))
        )
    }
}

fn primitive(ty: Type, at: &str) -> String {
    match ty {
        Type::Bool => "bool",
        Type::U8 => "u8",
        Type::U16 => "u16",
        Type::U32 => "u32",
        Type::U64 => "u64",
        Type::S8 => "i8",
        Type::S16 => "i16",
        Type::S32 => "i32",
        Type::S64 => "i64",
        Type::F32 => "f32",
        Type::F64 => "f64",
        Type::Char => "char",
        other => panic!("`{at}` uses a WIT type this generator does not know: {other:?}"),
    }
    .into()
}

/// `a`, `a and b`, `a, b and c`.
fn english_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Doc comment lines (`///`) from WIT docs.
fn doc_lines(src: &mut String, indent: &str, docs: &str) {
    for line in docs.lines().map(str::trim_end) {
        if line.is_empty() {
            writeln!(src, "{indent}///").unwrap();
        } else {
            writeln!(src, "{indent}/// {line}").unwrap();
        }
    }
}

/// A WIT name as a Rust function, parameter or module name (as wit-bindgen writes it).
fn snake(name: &str) -> String {
    let s = name.replace('-', "_").to_lowercase();
    if RUST_KEYWORDS.contains(&s.as_str()) {
        format!("{s}_")
    } else {
        s
    }
}

/// A WIT name as a Rust type name (as wit-bindgen writes it).
fn upper_camel(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect()
            })
        })
        .collect()
}

const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
    "try", "type", "unsafe", "use", "where", "while", "yield", "abstract", "become", "do", "final",
    "macro", "override", "priv", "typeof", "unsized", "virtual",
];

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}
