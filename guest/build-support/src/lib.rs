//! Compiles guest crates of this workspace into WebAssembly components, for the build
//! scripts of the host (the default guests it embeds) and of the tests (misbehaving guests).
//!
//! The nested cargo uses its own target directory so that it never waits for the lock the
//! outer build holds, and builds in release mode: guests are small, and an optimized guest
//! is what the host should run. One crate may yield several components, one per variant
//! ([`build_variants`]): the default handlers are one crate, a variant per group.

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
    print_watch(&root, watch);
    ensure_target_installed();
    let mut cmd = guest_cargo(&root);
    for p in packages {
        cmd.args(["-p", p]);
    }
    run(cmd, &format!("the guests {packages:?}"));
    packages.iter().map(|p| built_component(&root, p)).collect()
}

/// The environment variable through which [`build_variants`] tells a package's build
/// script which variant to compile.
pub const VARIANT_ENV: &str = "IAM_GUEST_VARIANT";

/// Builds the `cdylib` `package` once per name in `variants`, each time with
/// [`VARIANT_ENV`] set to that name (the package's build script chooses what to compile
/// from it), and returns the path of each component, in the order given.
///
/// Every build writes the same file, so each component is copied to
/// `target/wasm-guests/variants/<package>/<variant>.wasm` (rewritten only when it
/// changed). The variable reaches `package`'s build script only, never its dependencies,
/// so the builds share one build of the dependencies and each recompiles and relinks only
/// `package` itself. `watch` is as for [`build_components`].
pub fn build_variants(package: &str, variants: &[&str], watch: &[&str]) -> Vec<PathBuf> {
    let root = workspace_root();
    print_watch(&root, watch);
    ensure_target_installed();
    let dir = target_dir(&root).join("variants").join(package);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    variants
        .iter()
        .map(|variant| {
            let mut cmd = guest_cargo(&root);
            cmd.args(["-p", package]).env(VARIANT_ENV, variant);
            run(cmd, &format!("the guest {package}, variant {variant:?}"));
            let built = std::fs::read(built_component(&root, package))
                .unwrap_or_else(|e| panic!("cannot read the {package} component: {e}"));
            let file = dir.join(format!("{variant}.wasm"));
            if std::fs::read(&file).ok().as_ref() != Some(&built) {
                std::fs::write(&file, &built)
                    .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
            }
            file
        })
        .collect()
}

fn print_watch(root: &Path, watch: &[&str]) {
    for path in watch {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
}

/// The nested cargo uses its own target directory so that it never waits for the lock the
/// outer build holds.
fn target_dir(root: &Path) -> PathBuf {
    root.join("target").join("wasm-guests")
}

/// `cargo build` of guests for [`TARGET`], in release mode, with none of the outer
/// build's settings; the caller adds the packages.
fn guest_cargo(root: &Path) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--release", "--locked", "--target", TARGET])
        .arg("--target-dir")
        .arg(target_dir(root));
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
        VARIANT_ENV,
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
    cmd
}

fn run(mut cmd: Command, what: &str) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build {what}: {e}"));
    assert!(
        status.success(),
        "building {what} for {TARGET} failed (see the output above)"
    );
}

/// The component cargo wrote for `package`.
fn built_component(root: &Path, package: &str) -> PathBuf {
    let file = target_dir(root)
        .join(TARGET)
        .join("release")
        .join(format!("{}.wasm", package.replace('-', "_")));
    assert!(file.exists(), "guest build produced no {}", file.display());
    file
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
