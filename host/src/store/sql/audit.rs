//! The stored audit trail's queries.

use super::{Connection, Row, Value, params, params_from_iter};

use super::{now_ms, sql_int};
use crate::audit::{Actor, Event};
use crate::store::{AuditFilter, AuditRecord, AuditStore, StoreResult};

pub fn record(
    conn: &Connection,
    request: &str,
    actor: &Actor,
    events: &[Event],
) -> super::Result<()> {
    let now = now_ms();
    let source = actor.source.map(|s| s.to_string());
    for e in events {
        conn.prepare_cached(
            "INSERT INTO audit_events(time_ms, request, category, type, actor_account,
                                      actor_client, actor_job, source, account, grp, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            now,
            request,
            e.category(),
            e.kind,
            actor.account,
            actor.client,
            actor.job,
            source,
            e.account,
            e.group,
            e.detail
        ])?;
    }
    Ok(())
}

/// The `WHERE` clause of `f` and its parameters (`TRUE` and none for no filter).
fn condition(f: &AuditFilter) -> (String, Vec<Value>) {
    let mut parts = Vec::new();
    let mut args = Vec::new();
    let mut text = |template: &str, value: &Option<String>| {
        if let Some(v) = value {
            args.push(Value::Text(v.clone()));
            parts.push(template.replace('#', &format!("?{}", args.len())));
        }
    };
    text("category = #", &f.category);
    text("type = #", &f.kind);
    text(
        "(actor_account = # OR actor_client = # OR actor_job = #)",
        &f.actor,
    );
    text(
        "(account = # OR grp = # OR (category = 'client' AND detail = #))",
        &f.target,
    );
    text("account = #", &f.account);
    let groups = f.groups.as_ref().map(|g| serde_json::json!(g).to_string());
    text("grp IN (SELECT value FROM json_each(#))", &groups);
    for (template, value) in [("time_ms >= #", f.since_ms), ("time_ms < #", f.until_ms)] {
        if let Some(v) = value {
            args.push(Value::Integer(sql_int(v)));
            parts.push(template.replace('#', &format!("?{}", args.len())));
        }
    }
    if parts.is_empty() {
        parts.push("TRUE".into());
    }
    (parts.join(" AND "), args)
}

fn record_from_row(r: &Row) -> super::Result<AuditRecord> {
    Ok(AuditRecord {
        id: r.get(0)?,
        time_ms: r.get(1)?,
        request: r.get(2)?,
        category: r.get(3)?,
        kind: r.get(4)?,
        actor_account: r.get(5)?,
        actor_client: r.get(6)?,
        actor_job: r.get(7)?,
        source: r.get(8)?,
        account: r.get(9)?,
        group: r.get(10)?,
        detail: r.get(11)?,
    })
}

pub fn count(conn: &Connection, f: &AuditFilter) -> super::Result<u64> {
    let (condition, args) = condition(f);
    conn.prepare_cached(&format!(
        "SELECT count(*) FROM audit_events WHERE {condition}"
    ))?
    .query_row(params_from_iter(&args), |r| r.get(0))
}

pub fn page(
    conn: &Connection,
    f: &AuditFilter,
    offset: u64,
    limit: u64,
) -> super::Result<Vec<AuditRecord>> {
    let (condition, mut args) = condition(f);
    let n = args.len();
    args.push(Value::Integer(sql_int(limit)));
    args.push(Value::Integer(sql_int(offset)));
    conn.prepare_cached(&format!(
        "SELECT id, time_ms, request, category, type, actor_account, actor_client, actor_job,
                source, account, grp, detail
         FROM audit_events WHERE {condition} ORDER BY id DESC LIMIT ?{} OFFSET ?{}",
        n + 1,
        n + 2
    ))?
    .query_map(params_from_iter(&args), record_from_row)?
    .collect()
}

pub fn remove_before(conn: &Connection, before_ms: u64, limit: u64) -> super::Result<u64> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM audit_events WHERE id IN
                 (SELECT id FROM audit_events WHERE time_ms < ?1 ORDER BY time_ms LIMIT ?2)",
        )?
        .execute(params![sql_int(before_ms), sql_int(limit)])? as u64)
}

impl AuditStore for Connection {
    fn record(&self, request: &str, actor: &Actor, events: &[Event]) -> StoreResult<()> {
        Ok(record(self, request, actor, events)?)
    }

    fn count(&self, filter: &AuditFilter) -> StoreResult<u64> {
        Ok(count(self, filter)?)
    }

    fn page(&self, filter: &AuditFilter, offset: u64, limit: u64) -> StoreResult<Vec<AuditRecord>> {
        Ok(page(self, filter, offset, limit)?)
    }

    fn remove_before(&self, before_ms: u64, limit: u64) -> StoreResult<u64> {
        Ok(remove_before(self, before_ms, limit)?)
    }
}
