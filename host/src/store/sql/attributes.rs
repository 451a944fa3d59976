//! Account attribute queries.

use super::{Connection, params};

use crate::contract::types::Attribute;
use crate::store::{AttributeStore, StoreResult};

/// The attributes of accounts, ordered by name (see [`super::per_account`]).
pub const OF_ACCOUNTS: &str = "SELECT t.name, t.value, a.uuid FROM attributes t
     JOIN accounts a ON a.id = t.account_id
     WHERE a.uuid IN (SELECT value FROM json_each(?1)) ORDER BY t.name";

pub fn from_row(r: &super::Row) -> super::Result<Attribute> {
    Ok(Attribute {
        name: r.get(0)?,
        value: r.get(1)?,
    })
}

pub fn all(conn: &Connection, account_uuid: &str) -> super::Result<Vec<Attribute>> {
    super::for_account(conn, OF_ACCOUNTS, account_uuid, from_row)
}

/// Inserts or replaces by name. Does nothing when the account does not exist.
pub fn put(conn: &Connection, account_uuid: &str, attr: &Attribute) -> super::Result<()> {
    conn.prepare_cached(
        "INSERT INTO attributes(account_id, name, value)
         SELECT id, ?2, ?3 FROM accounts WHERE uuid = ?1
         ON CONFLICT(account_id, name) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![account_uuid, attr.name, attr.value])?;
    Ok(())
}

pub fn remove(conn: &Connection, account_uuid: &str, name: &str) -> super::Result<bool> {
    let n = conn
        .prepare_cached(
            "DELETE FROM attributes WHERE name = ?2
             AND account_id = (SELECT id FROM accounts WHERE uuid = ?1)",
        )?
        .execute(params![account_uuid, name])?;
    Ok(n > 0)
}

impl AttributeStore for Connection {
    fn all(&self, account_uuid: &str) -> StoreResult<Vec<Attribute>> {
        Ok(all(self, account_uuid)?)
    }

    fn put(&self, account_uuid: &str, attr: &Attribute) -> StoreResult<()> {
        Ok(put(self, account_uuid, attr)?)
    }

    fn remove(&self, account_uuid: &str, name: &str) -> StoreResult<bool> {
        Ok(remove(self, account_uuid, name)?)
    }

    fn of_group(&self, group_uuid: &str) -> StoreResult<Vec<Attribute>> {
        let mut stmt = self.prepare_cached(
            "SELECT t.name, t.value FROM group_attributes t JOIN groups g ON g.id = t.group_id
             WHERE g.uuid = ?1 ORDER BY t.name",
        )?;
        let rows = stmt.query_map([group_uuid], from_row)?;
        Ok(rows.collect::<super::Result<_>>()?)
    }

    fn put_on_group(&self, group_uuid: &str, attr: &Attribute) -> StoreResult<()> {
        self.prepare_cached(
            "INSERT INTO group_attributes(group_id, name, value)
             SELECT id, ?2, ?3 FROM groups WHERE uuid = ?1
             ON CONFLICT(group_id, name) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![group_uuid, attr.name, attr.value])?;
        Ok(())
    }

    fn remove_from_group(&self, group_uuid: &str, name: &str) -> StoreResult<bool> {
        let n = self
            .prepare_cached(
                "DELETE FROM group_attributes WHERE name = ?2
                 AND group_id = (SELECT id FROM groups WHERE uuid = ?1)",
            )?
            .execute(params![group_uuid, name])?;
        Ok(n > 0)
    }
}
