//! Group queries.

use super::{Connection, OptionalExtension, Row, params};

use super::scim_sql::{Sql, list_query};
use super::{now_ms, sql_int};
use crate::contract::types::{Group, GroupRef, ListQuery};
use crate::store::{GroupStore, StoreError, StoreResult};

const COLUMNS: &str =
    "g.uuid, g.name, g.description, p.uuid, p.name, g.created_ms, g.last_modified_ms";
const FROM: &str = "groups g LEFT JOIN groups p ON p.id = g.parent_id";

fn group_from_row(r: &Row) -> super::Result<Group> {
    let parent_id: Option<String> = r.get(3)?;
    let parent_name: Option<String> = r.get(4)?;
    Ok(Group {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        parent: parent_id
            .zip(parent_name)
            .map(|(id, name)| GroupRef { id, name }),
        created: r.get(5)?,
        last_modified: r.get(6)?,
    })
}

pub fn by_uuid(conn: &Connection, uuid: &str) -> super::Result<Option<Group>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM {FROM} WHERE g.uuid = ?1"))?
        .query_row([uuid], group_from_row)
        .optional()
}

pub fn by_name(conn: &Connection, name: &str) -> super::Result<Option<Group>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM {FROM} WHERE g.name = ?1"))?
        .query_row([name], group_from_row)
        .optional()
}

/// Creates a group and its `ROLE_GM:<uuid>` authority.
pub fn insert(conn: &Connection, name: &str, parent_uuid: Option<&str>) -> super::Result<Group> {
    let uuid = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO groups(uuid, name, parent_id, created_ms, last_modified_ms)
             VALUES (?1, ?2, (SELECT id FROM groups WHERE uuid = ?3), ?4, ?4) RETURNING id",
        )?
        .query_row(params![uuid, name, parent_uuid, now], |r| r.get(0))?;
    conn.prepare_cached("INSERT INTO authorities(name, group_id) VALUES (?1, ?2)")?
        .execute(params![format!("ROLE_GM:{uuid}"), id])?;
    by_uuid(conn, &uuid).map(|g| g.expect("group just inserted"))
}

pub fn set_description(
    conn: &Connection,
    uuid: &str,
    description: Option<&str>,
) -> super::Result<Group> {
    conn.prepare_cached(
        "UPDATE groups SET description = ?2, last_modified_ms = ?3 WHERE uuid = ?1",
    )?
    .execute(params![uuid, description, now_ms()])?;
    by_uuid(conn, uuid).map(|g| g.expect("group just updated"))
}

/// Renames a group and, since names are full paths, every group below it.
pub fn rename(conn: &Connection, uuid: &str, name: &str) -> super::Result<Group> {
    let old: String = conn
        .prepare_cached("SELECT name FROM groups WHERE uuid = ?1")?
        .query_row([uuid], |r| r.get(0))?;
    conn.prepare_cached(
        "UPDATE groups SET name = ?2 || substr(name, length(?1) + 1)
         WHERE substr(name, 1, length(?1) + 1) = ?1 || '/'",
    )?
    .execute(params![old, name])?;
    conn.prepare_cached("UPDATE groups SET name = ?2, last_modified_ms = ?3 WHERE uuid = ?1")?
        .execute(params![uuid, name, now_ms()])?;
    by_uuid(conn, uuid).map(|g| g.expect("group just renamed"))
}

/// Deletes a group; its manager authority goes with it (and so from every account).
pub fn delete(conn: &Connection, uuid: &str) -> super::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM groups WHERE uuid = ?1")?
        .execute([uuid])?
        > 0)
}

pub fn count_members(conn: &Connection, uuid: &str) -> super::Result<u64> {
    conn.prepare_cached(
        "SELECT count(*) FROM memberships WHERE group_id = (SELECT id FROM groups WHERE uuid = ?1)",
    )?
    .query_row([uuid], |r| r.get(0))
}

pub fn count_subgroups(conn: &Connection, uuid: &str) -> super::Result<u64> {
    conn.prepare_cached(
        "SELECT count(*) FROM groups WHERE parent_id = (SELECT id FROM groups WHERE uuid = ?1)",
    )?
    .query_row([uuid], |r| r.get(0))
}

pub fn count(conn: &Connection) -> super::Result<u64> {
    conn.prepare_cached("SELECT count(*) FROM groups")?
        .query_row([], |r| r.get(0))
}

pub fn list(conn: &Connection, offset: u64, limit: u64) -> super::Result<Vec<Group>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM {FROM} ORDER BY g.id LIMIT ?1 OFFSET ?2"
    ))?
    .query_map(params![sql_int(limit), sql_int(offset)], group_from_row)?
    .collect()
}

/// The number of groups a SCIM list query selects (`super::scim_sql` builds the condition).
pub fn count_query(conn: &Connection, condition: &Sql) -> super::Result<u64> {
    conn.prepare_cached(&format!(
        "SELECT count(*) FROM groups g WHERE {}",
        condition.sql
    ))?
    .query_row(super::params_from_iter(&condition.params), |r| r.get(0))
}

/// A page of the groups a SCIM list query selects, in its order.
pub fn find(
    conn: &Connection,
    condition: &Sql,
    order: &str,
    offset: u64,
    limit: u64,
) -> super::Result<Vec<Group>> {
    let mut params = condition.params.clone();
    params.extend([
        super::Value::Integer(sql_int(limit)),
        super::Value::Integer(sql_int(offset)),
    ]);
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE {} ORDER BY {order} LIMIT ? OFFSET ?",
        condition.sql
    ))?
    .query_map(super::params_from_iter(&params), group_from_row)?
    .collect()
}

/// `?1` is the filter (NULL: none), `?2` it escaped and wrapped in `%`: group search takes
/// the filter literally.
const MATCHING: &str =
    "(CAST(?1 AS TEXT) IS NULL OR g.name LIKE ?2 ESCAPE '\\' OR g.uuid LIKE ?2 ESCAPE '\\')";

fn literal_pattern(text: Option<&str>) -> Option<String> {
    text.map(|t| {
        let escaped = t
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        super::bounded_like(format!("%{escaped}%"), false)
    })
}

pub fn count_matching(conn: &Connection, text: Option<&str>) -> super::Result<u64> {
    conn.prepare_cached(&format!("SELECT count(*) FROM groups g WHERE {MATCHING}"))?
        .query_row(params![text, literal_pattern(text)], |r| r.get(0))
}

/// A page of the groups matching `text`, ordered by name.
pub fn search(
    conn: &Connection,
    text: Option<&str>,
    descending: bool,
    offset: u64,
    limit: u64,
) -> super::Result<Vec<Group>> {
    let dir = if descending { "DESC" } else { "ASC" };
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE {MATCHING}
         ORDER BY lower(g.name) {dir}, g.id {dir} LIMIT ?3 OFFSET ?4"
    ))?
    .query_map(
        params![text, literal_pattern(text), sql_int(limit), sql_int(offset)],
        group_from_row,
    )?
    .collect()
}

/// A page of a group's direct subgroups, ordered by name.
pub fn subgroups(
    conn: &Connection,
    uuid: &str,
    offset: u64,
    limit: u64,
) -> super::Result<Vec<GroupRef>> {
    conn.prepare_cached(
        "SELECT uuid, name FROM groups WHERE parent_id = (SELECT id FROM groups WHERE uuid = ?1)
         ORDER BY name LIMIT ?2 OFFSET ?3",
    )?
    .query_map(params![uuid, sql_int(limit), sql_int(offset)], |r| {
        Ok(GroupRef {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })?
    .collect()
}

/// Every group as a reference, ordered by name.
pub fn all_refs(conn: &Connection) -> super::Result<Vec<GroupRef>> {
    conn.prepare_cached("SELECT uuid, name FROM groups ORDER BY name")?
        .query_map([], |r| {
            Ok(GroupRef {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?
        .collect()
}

pub fn touch(conn: &Connection, uuid: &str) -> super::Result<()> {
    conn.prepare_cached("UPDATE groups SET last_modified_ms = ?2 WHERE uuid = ?1")?
        .execute(params![uuid, now_ms()])?;
    Ok(())
}

impl GroupStore for Connection {
    fn by_uuid(&self, uuid: &str) -> StoreResult<Option<Group>> {
        Ok(by_uuid(self, uuid)?)
    }

    fn by_name(&self, name: &str) -> StoreResult<Option<Group>> {
        Ok(by_name(self, name)?)
    }

    fn insert(&self, name: &str, parent_uuid: Option<&str>) -> StoreResult<Group> {
        Ok(insert(self, name, parent_uuid)?)
    }

    fn set_description(&self, uuid: &str, description: Option<&str>) -> StoreResult<Group> {
        Ok(set_description(self, uuid, description)?)
    }

    fn rename(&self, uuid: &str, name: &str) -> StoreResult<Group> {
        Ok(rename(self, uuid, name)?)
    }

    fn delete(&self, uuid: &str) -> StoreResult<bool> {
        Ok(delete(self, uuid)?)
    }

    fn count_members(&self, uuid: &str) -> StoreResult<u64> {
        Ok(count_members(self, uuid)?)
    }

    fn count_subgroups(&self, uuid: &str) -> StoreResult<u64> {
        Ok(count_subgroups(self, uuid)?)
    }

    fn count(&self) -> StoreResult<u64> {
        Ok(count(self)?)
    }

    fn list(&self, offset: u64, limit: u64) -> StoreResult<Vec<Group>> {
        Ok(list(self, offset, limit)?)
    }

    fn count_query(&self, query: &ListQuery) -> StoreResult<u64> {
        let (condition, _) = list_query(query, false, self.dialect()).map_err(StoreError::other)?;
        Ok(count_query(self, &condition)?)
    }

    fn find(&self, query: &ListQuery, offset: u64, limit: u64) -> StoreResult<Vec<Group>> {
        let (condition, order) =
            list_query(query, false, self.dialect()).map_err(StoreError::other)?;
        Ok(find(self, &condition, &order, offset, limit)?)
    }

    fn count_matching(&self, text: Option<&str>) -> StoreResult<u64> {
        Ok(count_matching(self, text)?)
    }

    fn search(
        &self,
        text: Option<&str>,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<Group>> {
        Ok(search(self, text, descending, offset, limit)?)
    }

    fn subgroups(&self, uuid: &str, offset: u64, limit: u64) -> StoreResult<Vec<GroupRef>> {
        Ok(subgroups(self, uuid, offset, limit)?)
    }

    fn all_refs(&self) -> StoreResult<Vec<GroupRef>> {
        Ok(all_refs(self)?)
    }

    fn touch(&self, uuid: &str) -> StoreResult<()> {
        Ok(touch(self, uuid)?)
    }
}
