//! Build step: reads the contract's `operation` variant (`wit/types.wit`) and writes
//! `$OUT_DIR/operations.rs`: `endpoint_of`, the HTTP method and path of every operation,
//! taken from the first `` `METHOD /path` `` of its doc comment. The host derives an
//! operation's transaction mode and error body from them, so a new operation needs only its
//! case in the WIT, documented like the others; one without such a line fails the build.

use std::fmt::Write as _;
use std::path::Path;

use wit_parser::{Resolve, TypeDefKind};

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

pub fn generate() {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let wit_dir = Path::new(&manifest).join("../wit");
    let out = Path::new(&std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("operations.rs");
    let mut resolve = Resolve::default();
    resolve
        .push_dir(&wit_dir)
        .unwrap_or_else(|e| panic!("{}: {}", wit_dir.display(), resolve.render_error(&e)));
    let operation = resolve
        .types
        .iter()
        .map(|(_, t)| t)
        .find(|t| t.name.as_deref() == Some("operation"))
        .expect("types.wit declares `variant operation`");
    let TypeDefKind::Variant(variant) = &operation.kind else {
        panic!("types.wit: `operation` is not a variant");
    };

    let mut code = String::from(
        "/// The HTTP method and path (as documented in `wit/types.wit`) of each operation.\n\
         pub fn endpoint_of(op: &Operation) -> (&'static str, &'static str) {\n    match op {\n",
    );
    for case in &variant.cases {
        let docs = case.docs.contents.as_deref().unwrap_or_default();
        let (method, path) = endpoint_in(docs).unwrap_or_else(|| {
            panic!(
                "types.wit: operation `{}` has no `METHOD /path` in its doc comment",
                case.name
            )
        });
        let payload = if case.ty.is_some() { "(_)" } else { "" };
        writeln!(
            code,
            "        Operation::{}{payload} => ({method:?}, {path:?}),",
            upper_camel(&case.name)
        )
        .unwrap();
    }
    code.push_str("    }\n}\n");
    std::fs::write(&out, code).expect("write operations.rs");
}

/// The first `` `METHOD /path` `` of a doc comment.
fn endpoint_in(docs: &str) -> Option<(&str, &str)> {
    docs.split('`').skip(1).step_by(2).find_map(|code| {
        let (method, path) = code.split_once(' ')?;
        (METHODS.contains(&method) && path.starts_with('/')).then_some((method, path))
    })
}

/// `get-account-attributes` → `GetAccountAttributes`, as wasmtime's bindgen names cases.
fn upper_camel(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}
