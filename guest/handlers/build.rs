//! Chooses the handler groups this build compiles. `iam-guest-build` builds this crate once
//! per group with `IAM_GUEST_VARIANT=<group>` (its `VARIANT_ENV`); this script turns that
//! into the cfg `handler = "<module>"` (group `group-metadata` is module `group_metadata`),
//! so the component holds that group's module alone. Without the variable (native tests,
//! clippy) it sets `all_handlers` and every group is compiled. A group whose module
//! `src/lib.rs` does not declare fails here.

use std::path::PathBuf;

const VARIANT_ENV: &str = "IAM_GUEST_VARIANT";

fn main() {
    let src = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"))
        .join("src");
    println!("cargo:rerun-if-changed={}", src.display());
    println!("cargo:rerun-if-env-changed={VARIANT_ENV}");

    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("read src/lib.rs");
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    let values: Vec<String> = declared.iter().map(|m| format!("{m:?}")).collect();
    println!("cargo:rustc-check-cfg=cfg(all_handlers)");
    println!(
        "cargo:rustc-check-cfg=cfg(handler, values({}))",
        values.join(", ")
    );
    match std::env::var(VARIANT_ENV) {
        Ok(group) => {
            let module = group.replace('-', "_");
            assert!(
                declared.contains(&module.as_str()),
                "no handler module for the group `{group}`: write guest/handlers/src/{module}.rs \
                 and declare it in src/lib.rs"
            );
            println!("cargo:rustc-cfg=handler={module:?}");
        }
        Err(_) => println!("cargo:rustc-cfg=all_handlers"),
    }
}
