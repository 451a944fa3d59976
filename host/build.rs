//! Compiles the default guests (`guest/`) into components and hands their paths to
//! `plugins::mod` for embedding, so `cargo build` alone yields a self-contained binary.

fn main() {
    let wasm = iam_guest_build::build_components(
        &["iam-policy-roles", "iam-policy-strict", "iam-handlers"],
        &["guest", "wit", "Cargo.lock"],
    );
    println!(
        "cargo:rustc-env=IAM_GUEST_POLICY_ROLES={}",
        wasm[0].display()
    );
    println!(
        "cargo:rustc-env=IAM_GUEST_POLICY_STRICT={}",
        wasm[1].display()
    );
    println!("cargo:rustc-env=IAM_GUEST_HANDLERS={}", wasm[2].display());
    // The CLI tests feed the policy component to a handler slot to check the refusal.
    println!(
        "cargo:rustc-env=IAM_GUEST_POLICY_ROLES_FOR_TESTS={}",
        wasm[0].display()
    );
}
