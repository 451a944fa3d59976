//! Builds the misbehaving guests the fault tests load through the config.

fn main() {
    let wasm = iam_guest_build::build_components(
        &["iam-test-faulty-handler", "iam-test-faulty-policy"],
        &["tests/guests", "wit"],
    );
    println!(
        "cargo:rustc-env=IAM_TEST_FAULTY_HANDLER={}",
        wasm[0].display()
    );
    println!(
        "cargo:rustc-env=IAM_TEST_FAULTY_POLICY={}",
        wasm[1].display()
    );
}
