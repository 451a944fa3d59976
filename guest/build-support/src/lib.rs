//! Compiles guest crates of this workspace into WebAssembly components, for the build
//! scripts of the host (the default guests it embeds) and of the tests (misbehaving guests).
//!
//! The nested cargo uses its own target directory so that it never waits for the lock the
//! outer build holds, and builds in release mode: guests are small, and an optimized guest
//! is what the host should run.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every guest is built for.
pub const TARGET: &str = "wasm32-wasip2";

/// The stack of the default guests (see `build_components`).
pub const GUEST_STACK_BYTES: usize = 128 << 10;

/// Builds `packages` (workspace package names, each a `cdylib`) for `wasm32-wasip2` and
/// returns the path of each component, in the order given.
///
/// Prints the `cargo:rerun-if-changed` lines for `watch` (directories or files relative to
/// the workspace root) so the calling build script reruns when a guest's sources change.
pub fn build_components(packages: &[&str], watch: &[&str]) -> Vec<PathBuf> {
    let root = workspace_root();
    for path in watch {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    ensure_target_installed();

    let target_dir = root.join("target").join("wasm-guests");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--release", "--locked", "--target", TARGET])
        .arg("--target-dir")
        .arg(&target_dir);
    for p in packages {
        cmd.args(["-p", p]);
    }
    // Settings of the outer build must not leak into the guest build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    // Small components compile faster at start; symbol names stay for trap backtraces.
    cmd.env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo");
    // A 128 KiB stack instead of 1 MiB: the stack sits below the data, so everything an
    // instance touches stays within the first pages of its memory, which the host keeps
    // resident between instances (no page faults on each request's fresh instance).
    cmd.env(
        "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS",
        format!("-C link-arg=-zstack-size={GUEST_STACK_BYTES}"),
    );
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the guests: {e}"));
    assert!(
        status.success(),
        "building the guests {packages:?} for {TARGET} failed (see the output above)"
    );

    packages
        .iter()
        .map(|p| {
            let file = target_dir
                .join(TARGET)
                .join("release")
                .join(format!("{}.wasm", p.replace('-', "_")));
            assert!(file.exists(), "guest build produced no {}", file.display());
            file
        })
        .collect()
}

/// The workspace root: the parent of the calling package's directory.
fn workspace_root() -> PathBuf {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run from a build script"));
    manifest
        .ancestors()
        .find(|dir| is_workspace_root(dir))
        .expect("no workspace Cargo.toml above the package")
        .to_path_buf()
}

fn is_workspace_root(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .map(|text| text.lines().any(|l| l.trim() == "[workspace]"))
        .unwrap_or(false)
}

/// rustup does not install a target listed in `rust-toolchain.toml` when cargo runs, so a
/// fresh machine would fail with "can't find crate for `core`". Install it here instead.
fn ensure_target_installed() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_else(|| panic!("cannot ask {rustc} for its sysroot"));
    if sysroot
        .join("lib/rustlib")
        .join(TARGET)
        .join("lib")
        .is_dir()
    {
        return;
    }
    println!("cargo:warning=installing the {TARGET} target with rustup (first build only)");
    // RUSTUP_TOOLCHAIN is set by rustup for the outer build, so this adds the target to the
    // toolchain that is building right now.
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("`rustup target add {TARGET}` failed ({s}); install the target by hand"),
        Err(e) => panic!(
            "the {TARGET} target is missing and rustup cannot be run ({e}): \
             install it for {} with your toolchain manager",
            sysroot.display()
        ),
    }
}
