//! Compiles the default guests (`guest/`) into components and hands their paths to
//! `plugins::mod` for embedding, so `cargo build` alone yields a self-contained binary.

#[path = "build/slots.rs"]
mod slots;

fn main() {
    // The slot registry, read from `wit/worlds.wit` (see `build/slots.rs`); the handler
    // groups are its slots after the policy.
    let handler_groups = slots::generate();
    let mut packages = vec![
        "iam-policy-roles".to_string(),
        "iam-policy-strict".to_string(),
    ];
    packages.extend(handler_groups.iter().map(|g| format!("iam-handler-{g}")));
    let names: Vec<&str> = packages.iter().map(String::as_str).collect();
    let wasm = iam_guest_build::build_components(&names, &["guest", "wit", "Cargo.lock"]);
    println!(
        "cargo:rustc-env=IAM_GUEST_POLICY_ROLES={}",
        wasm[0].display()
    );
    println!(
        "cargo:rustc-env=IAM_GUEST_POLICY_STRICT={}",
        wasm[1].display()
    );
    // The table `plugins::BUILTIN_HANDLER_COMPONENTS`, and each path for the tests.
    let mut table = String::from("&[\n");
    for (group, path) in handler_groups.iter().zip(&wasm[2..]) {
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
