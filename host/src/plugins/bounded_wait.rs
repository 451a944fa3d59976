//! `wasi:io/poll` with every wait bounded by the call's deadline.
//!
//! The epoch deadline stops a guest only while it runs Wasm code. A guest that sleeps
//! (`std::thread::sleep`, a timer in `poll`) waits inside the host, where no epoch check
//! runs, and would hold its request, and the write lock of its transaction, for as long as
//! it asked. This linker shadows WASI's `poll` and `pollable.block` with versions that wait
//! at most until the call's deadline and then fail the call as a deadline overrun (503 for a
//! handler; the policy denies). Every other WASI wait goes through a pollable, and the
//! streams the guest has (closed stdin, discarding stdout, a stderr buffer) never block.

use std::future::Future;
use std::time::Instant;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::io::poll as async_poll;
use wasmtime_wasi::p2::bindings::sync::io::poll;
use wasmtime_wasi::runtime::in_tokio;

use super::GuestState;

/// The error that ends a call whose guest waited up to its deadline.
#[derive(Debug)]
pub struct WaitedPastDeadline;

impl std::fmt::Display for WaitedPastDeadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the guest waited (wasi:io/poll) until its deadline")
    }
}

impl std::error::Error for WaitedPastDeadline {}

/// What the shadowing `wasi:io/poll` works with: the guest's resources and its deadline.
pub struct BoundedPoll<'a> {
    table: &'a mut ResourceTable,
    until: Instant,
}

struct HasBoundedPoll;

impl HasData for HasBoundedPoll {
    type Data<'a> = BoundedPoll<'a>;
}

/// Replaces the `wasi:io/poll` that `wasmtime_wasi::p2::add_to_linker_sync` defined.
pub fn shadow_poll(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    poll::add_to_linker::<GuestState, HasBoundedPoll>(linker, |s| BoundedPoll {
        table: &mut s.table,
        until: s.deadline,
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Runs `wait` until it ends or the deadline comes, whichever is first.
fn bounded<R>(
    until: Instant,
    wait: impl Future<Output = wasmtime::Result<R>>,
) -> wasmtime::Result<R> {
    let left = until.saturating_duration_since(Instant::now());
    // `timeout` polls `wait` first, so a pollable that is ready already is reported
    // even when no time is left.
    match in_tokio(tokio::time::timeout(left, wait)) {
        Ok(done) => done,
        Err(_) => Err(WaitedPastDeadline.into()),
    }
}

impl poll::Host for BoundedPoll<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        let table = &mut *self.table;
        bounded(self.until, async_poll::Host::poll(table, pollables))
    }
}

impl poll::HostPollable for BoundedPoll<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        let table = &mut *self.table;
        in_tokio(async_poll::HostPollable::ready(table, pollable))
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        let table = &mut *self.table;
        bounded(self.until, async_poll::HostPollable::block(table, pollable))
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        async_poll::HostPollable::drop(self.table, pollable)
    }
}
