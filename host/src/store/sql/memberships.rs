//! Group membership and the group tree.

use super::{Connection, params};

use super::now_ms;
use crate::store::{MembershipStore, StoreResult};

/// UUIDs of the group's ancestors, parent first.
pub fn ancestors(conn: &Connection, group_uuid: &str) -> super::Result<Vec<String>> {
    conn.prepare_cached(
        "WITH RECURSIVE up(id, depth) AS (
             SELECT parent_id, 1 FROM groups WHERE uuid = ?1
             UNION ALL
             SELECT g.parent_id, up.depth + 1 FROM groups g JOIN up ON g.id = up.id
         )
         SELECT g.uuid FROM up JOIN groups g ON g.id = up.id ORDER BY up.depth",
    )?
    .query_map([group_uuid], |r| r.get(0))?
    .collect()
}

/// UUIDs of every group below this one.
pub fn descendants(conn: &Connection, group_uuid: &str) -> super::Result<Vec<String>> {
    conn.prepare_cached(
        "WITH RECURSIVE down(id) AS (
             SELECT id FROM groups WHERE uuid = ?1
             UNION ALL
             SELECT g.id FROM groups g JOIN down ON g.parent_id = down.id
         )
         SELECT g.uuid FROM down JOIN groups g ON g.id = down.id WHERE g.uuid <> ?1",
    )?
    .query_map([group_uuid], |r| r.get(0))?
    .collect()
}

pub fn add(conn: &Connection, account_uuid: &str, group_uuid: &str) -> super::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO memberships(account_id, group_id, created_ms)
             SELECT a.id, g.id, CAST(?3 AS BIGINT) FROM accounts a, groups g
             WHERE a.uuid = ?1 AND g.uuid = ?2
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![account_uuid, group_uuid, now_ms()])?;
    Ok(n > 0)
}

pub fn remove(conn: &Connection, account_uuid: &str, group_uuid: &str) -> super::Result<bool> {
    let n = conn
        .prepare_cached(
            "DELETE FROM memberships
             WHERE account_id = (SELECT id FROM accounts WHERE uuid = ?1)
               AND group_id = (SELECT id FROM groups WHERE uuid = ?2)",
        )?
        .execute(params![account_uuid, group_uuid])?;
    Ok(n > 0)
}

impl MembershipStore for Connection {
    fn ancestors(&self, group_uuid: &str) -> StoreResult<Vec<String>> {
        Ok(ancestors(self, group_uuid)?)
    }

    fn descendants(&self, group_uuid: &str) -> StoreResult<Vec<String>> {
        Ok(descendants(self, group_uuid)?)
    }

    fn add(&self, account_uuid: &str, group_uuid: &str) -> StoreResult<bool> {
        Ok(add(self, account_uuid, group_uuid)?)
    }

    fn remove(&self, account_uuid: &str, group_uuid: &str) -> StoreResult<bool> {
        Ok(remove(self, account_uuid, group_uuid)?)
    }
}
