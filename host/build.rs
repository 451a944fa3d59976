//! Compiles the default guests (`guest/`) into components and hands their paths to
//! `plugins::mod` for embedding, so `cargo build` alone yields a self-contained binary.

#[path = "build/operations.rs"]
mod operations;
#[path = "build/slots.rs"]
mod slots;

fn main() {
    // The slot registry, read from `wit/worlds.wit` (see `build/slots.rs`); the handler
    // groups are its slots after the policy.
    let handler_groups = slots::generate();
    operations::generate();
    let groups: Vec<&str> = handler_groups.iter().map(String::as_str).collect();
    let watch = ["guest", "wit", "Cargo.lock"];
    let policies =
        iam_guest_build::build_components(&["iam-policy-roles", "iam-policy-strict"], &watch);
    // The handlers are one crate, built once per group with that group's module alone.
    let handlers = iam_guest_build::build_variants("iam-handlers", &groups, &watch);
    println!(
        "cargo:rustc-env=IAM_GUEST_POLICY_ROLES={}",
        policies[0].display()
    );
    println!(
        "cargo:rustc-env=IAM_GUEST_POLICY_STRICT={}",
        policies[1].display()
    );
    // The table `plugins::BUILTIN_HANDLER_COMPONENTS`, and each path for the tests.
    let mut table = String::from("&[\n");
    for (group, path) in handler_groups.iter().zip(&handlers) {
        table.push_str(&format!("    ({group:?}, include_bytes!({path:?})),\n"));
        println!(
            "cargo:rustc-env=IAM_GUEST_HANDLER_{}={}",
            group.to_uppercase(),
            path.display()
        );
    }
    table.push(']');
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("builtin_handlers.rs"), table).expect("write builtin_handlers.rs");
}
