//! `iam-host plugin check`: what a component imports and exports, which contract it was
//! built against, and which slots it fits, with the same check and linking a load does.

use std::fmt::Write as _;

use anyhow::{Context, Result, anyhow, bail};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::engine::engine;
use super::load::{find_export, linker, sha256_hex};
use super::slot_check::Shape;
use crate::slots;

/// Prints the report (a closed pipe, as in `| head`, is an error, not a panic); true when
/// the component fits `slot` (or, without one, at least one slot).
pub fn check_file(path: &std::path::Path, slot: Option<&str>) -> Result<bool> {
    if let Some(s) = slot
        && slots::slot(s).is_none()
    {
        let all: Vec<&str> = slots::slots().collect();
        bail!("unknown slot '{s}' (slots: {})", all.join(", "));
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let engine = engine(64 << 20)?;
    let component = Component::new(&engine, &bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("{} is not a WebAssembly component", path.display()))?;
    let shape = Shape::of(&engine, &component);
    let mut report = String::new();
    let out = &mut report;
    writeln!(out, "component: {}", path.display())?;
    writeln!(out, "sha256:    {}", sha256_hex(&bytes))?;
    let versions = shape.contract_versions();
    writeln!(
        out,
        "contract:  {}",
        if versions.is_empty() {
            "none (no iam:plugin interface)".to_string()
        } else {
            versions
                .iter()
                .map(|v| format!("{}@{v}", slots::PACKAGE))
                .collect::<Vec<_>>()
                .join(", ")
        }
    )?;
    writeln!(out, "imports:")?;
    for i in &shape.imports {
        writeln!(out, "  {i}")?;
    }
    writeln!(out, "exports:")?;
    for e in &shape.exports {
        writeln!(out, "  {e}")?;
    }
    writeln!(out, "slots:")?;
    let mut fitting = Vec::new();
    for s in slots::slots() {
        if slot.is_some_and(|wanted| wanted != s) {
            continue;
        }
        match fits(&engine, &component, &shape, s) {
            Ok(()) => {
                writeln!(out, "  {s}: fits")?;
                fitting.push(s);
            }
            Err(e) => writeln!(out, "  {s}: does not fit: {e:#}")?,
        }
    }
    use std::io::Write as _;
    std::io::stdout()
        .write_all(report.as_bytes())
        .context("cannot write the report")?;
    Ok(!fitting.is_empty())
}

/// Whether a component fits a slot: the contract check, then linking and finding the export
/// as a load would.
fn fits(engine: &Engine, component: &Component, shape: &Shape, slot: &str) -> Result<()> {
    shape.check(slot)?;
    let pre = linker(engine, slot)?
        .instantiate_pre(component)
        .map_err(|e| anyhow!("does not fit the contract: {e:#}"))?;
    find_export(slot, &pre)
        .map_err(|e| anyhow!("its export does not match the slot's interface: {e:#}"))
}
