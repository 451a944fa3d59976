//! The stored audit trail: every committed change, written in the transaction that made it
//! and read back by `GET /iam/audit/events` (docs/operations.md).

use super::StoreResult;
use crate::audit::{Actor, Event};

/// One stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: u64,
    pub time_ms: u64,
    /// The request (or job run) that made the change: its id, a trace id when it came
    /// with one.
    pub request: String,
    /// `account`, `group`, `membership` or `client` ([`Event::category`]).
    pub category: String,
    /// What happened, in INDIGO IAM's words (`label set`, ...).
    pub kind: String,
    pub actor_account: Option<String>,
    pub actor_client: Option<String>,
    pub actor_job: Option<String>,
    /// The caller's address.
    pub source: Option<String>,
    pub account: Option<String>,
    pub group: Option<String>,
    pub detail: String,
}

/// Which events a query selects; every field given must match exactly.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub category: Option<String>,
    pub kind: Option<String>,
    /// The acting account, client or job.
    pub actor: Option<String>,
    /// The account, group or client changed.
    pub target: Option<String>,
    /// The account changed (in an account or membership event).
    pub account: Option<String>,
    /// Only events about one of these groups, when given.
    pub groups: Option<Vec<String>>,
    /// From this time on (ms since the epoch, inclusive).
    pub since_ms: Option<u64>,
    /// Before this time (exclusive).
    pub until_ms: Option<u64>,
}

pub trait AuditStore {
    /// Stores a request's events; call in the transaction that made the changes, before
    /// it commits, so that the trail holds exactly the committed changes.
    fn record(&self, request: &str, actor: &Actor, events: &[Event]) -> StoreResult<()>;
    fn count(&self, filter: &AuditFilter) -> StoreResult<u64>;
    /// A page of the events `filter` selects, newest first.
    fn page(&self, filter: &AuditFilter, offset: u64, limit: u64) -> StoreResult<Vec<AuditRecord>>;
    /// Deletes at most `limit` of the oldest events from before `before_ms`; returns how
    /// many.
    fn remove_before(&self, before_ms: u64, limit: u64) -> StoreResult<u64>;
}
