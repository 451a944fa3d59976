//! The state of one guest instance's store. The host's imports each work on a narrow view
//! of it, as wasmtime-wasi's do on `WasiCtxView`: a store interface on the request's
//! transaction and audit trail ([`StoreView`](super::host::StoreView)), `config` and `log`
//! on the plugin's identity, settings and log budget
//! ([`PluginView`](super::host::runtime::PluginView)), `wasi:io/poll` on the guest's
//! resources and deadline (`bounded_wait`), the rest of WASI on its context.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::engine::MemoryLimiter;
use crate::audit::Trail;
use crate::store::Tx;

/// How much of a guest's stderr is kept for the log.
const STDERR_CAPACITY: usize = 16 * 1024;

/// The state of one guest instance's store.
pub struct GuestState {
    /// Built when the guest first calls WASI: most calls never do, and building it costs
    /// about as much as the rest of the store.
    wasi: Option<WasiCtx>,
    /// The guest's stderr, kept for the log (exists once WASI is built).
    stderr: Option<MemoryOutputPipe>,
    pub(super) table: ResourceTable,
    pub(super) limiter: MemoryLimiter,
    /// The request's transaction; absent for the policy.
    pub(super) conn: Option<Tx>,
    /// What the handler's writes changed, logged once the transaction commits.
    pub(super) audit: Trail,
    /// The slot this instance fills, for its log lines.
    pub(super) slot: &'static str,
    /// The public name of the component filling it, for its log lines.
    pub(super) component: Arc<str>,
    /// The operator's settings for this plugin (`config` import).
    pub(super) settings: Arc<BTreeMap<String, String>>,
    /// Lines logged by this call so far.
    pub(super) log_lines: u32,
    /// When the call's deadline passes: no WASI wait lasts beyond it.
    pub(super) deadline: Instant,
}

impl GuestState {
    /// The state of a call to `slot`'s component, on `conn` (none for the policy).
    pub(super) fn new(
        slot: &'static str,
        component: Arc<str>,
        settings: Arc<BTreeMap<String, String>>,
        limiter: MemoryLimiter,
        conn: Option<Tx>,
        deadline: Instant,
    ) -> GuestState {
        GuestState {
            wasi: None,
            stderr: None,
            table: ResourceTable::new(),
            limiter,
            conn,
            audit: Trail::default(),
            slot,
            component,
            settings,
            log_lines: 0,
            deadline,
        }
    }

    /// What the guest wrote to stderr so far.
    pub(super) fn stderr_text(&self) -> String {
        self.stderr
            .as_ref()
            .map(|p| String::from_utf8_lossy(&p.contents()).into_owned())
            .unwrap_or_default()
    }
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let stderr = &mut self.stderr;
        let ctx = self.wasi.get_or_insert_with(|| {
            let pipe = MemoryOutputPipe::new(STDERR_CAPACITY);
            *stderr = Some(pipe.clone());
            // No files, environment, arguments or sockets: a guest reaches the world only
            // through the slot's imports.
            WasiCtxBuilder::new()
                .stderr(pipe)
                .allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false)
                .build()
        });
        WasiCtxView {
            ctx,
            table: &mut self.table,
        }
    }
}
