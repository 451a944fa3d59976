//! Chooses the handler groups this build compiles: every `src/<group>.rs` is a group (file
//! `group_metadata.rs` is group `group-metadata`). `iam-guest-build` builds this crate once
//! per group with `IAM_GUEST_VARIANT=<group>` (its `VARIANT_ENV`), so that component holds
//! that group's module alone; without the variable (native tests, clippy) every group is
//! compiled. Writes the `mod` items to `$OUT_DIR/groups.rs`, which `src/lib.rs` includes.

use std::path::{Path, PathBuf};

const VARIANT_ENV: &str = "IAM_GUEST_VARIANT";

fn main() {
    let src = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"))
        .join("src");
    println!("cargo:rerun-if-changed={}", src.display());
    println!("cargo:rerun-if-env-changed={VARIANT_ENV}");

    let mut modules: Vec<String> = std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", src.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let stem = path.file_stem()?.to_str()?.to_string();
            (path.extension()? == "rs" && stem != "lib").then_some(stem)
        })
        .collect();
    modules.sort();
    if let Ok(group) = std::env::var(VARIANT_ENV) {
        let module = group.replace('-', "_");
        assert!(
            modules.contains(&module),
            "no handler module for the group `{group}`: write guest/handlers/src/{module}.rs"
        );
        modules = vec![module];
    }

    let items: String = modules
        .iter()
        .map(|m| {
            format!(
                "#[path = {:?}]\nmod {m};\n",
                src.join(format!("{m}.rs")).display()
            )
        })
        .collect();
    let out = Path::new(&std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("groups.rs");
    std::fs::write(&out, items).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
