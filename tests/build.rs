//! Builds the guests the tests load through the config: the misbehaving ones (trapping,
//! looping, sleeping, forging log lines), ones that import more than their slot provides,
//! and the example site policy.

fn main() {
    let wasm = iam_guest_build::build_components(
        &[
            "iam-test-faulty-handler",
            "iam-test-faulty-policy",
            "iam-example-site-policy",
            "iam-test-greedy-handler",
            "iam-test-sleepy-handler",
            "iam-test-log-forger",
            "iam-test-writer-handler",
        ],
        &[
            "tests/guests",
            "guest/examples/site-policy",
            "guest/logic",
            "wit",
        ],
    );
    println!(
        "cargo:rustc-env=IAM_TEST_FAULTY_HANDLER={}",
        wasm[0].display()
    );
    println!(
        "cargo:rustc-env=IAM_TEST_FAULTY_POLICY={}",
        wasm[1].display()
    );
    println!(
        "cargo:rustc-env=IAM_EXAMPLE_SITE_POLICY={}",
        wasm[2].display()
    );
    println!(
        "cargo:rustc-env=IAM_TEST_GREEDY_HANDLER={}",
        wasm[3].display()
    );
    println!(
        "cargo:rustc-env=IAM_TEST_SLEEPY_HANDLER={}",
        wasm[4].display()
    );
    println!("cargo:rustc-env=IAM_TEST_LOG_FORGER={}", wasm[5].display());
    println!(
        "cargo:rustc-env=IAM_TEST_WRITER_HANDLER={}",
        wasm[6].display()
    );
}
