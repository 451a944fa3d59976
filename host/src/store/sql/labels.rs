//! Account label queries. The empty prefix stands for "no prefix".

use super::{Connection, OptionalExtension, Row, params};

use crate::contract::types::Label;
use crate::store::{LabelStore, StoreResult};

pub fn from_row(r: &Row) -> super::Result<Label> {
    let prefix: String = r.get(0)?;
    Ok(Label {
        prefix: (!prefix.is_empty()).then_some(prefix),
        name: r.get(1)?,
        value: r.get(2)?,
    })
}

/// The labels of accounts, ordered by prefix then name (see [`super::per_account`]).
pub const OF_ACCOUNTS: &str = "SELECT l.prefix, l.name, l.value, a.uuid FROM labels l
     JOIN accounts a ON a.id = l.account_id
     WHERE a.uuid IN (SELECT value FROM json_each(?1)) ORDER BY l.prefix, l.name";

pub fn all(conn: &Connection, account_uuid: &str) -> super::Result<Vec<Label>> {
    super::for_account(conn, OF_ACCOUNTS, account_uuid, from_row)
}

pub fn find(
    conn: &Connection,
    account_uuid: &str,
    prefix: Option<&str>,
    name: &str,
) -> super::Result<Option<Label>> {
    conn.prepare_cached(
        "SELECT l.prefix, l.name, l.value FROM labels l JOIN accounts a ON a.id = l.account_id
         WHERE a.uuid = ?1 AND l.prefix = ?2 AND l.name = ?3",
    )?
    .query_row(
        params![account_uuid, prefix.unwrap_or_default(), name],
        from_row,
    )
    .optional()
}

/// Inserts or replaces by (prefix, name). Does nothing when the account does not exist.
pub fn put(conn: &Connection, account_uuid: &str, label: &Label) -> super::Result<()> {
    conn.prepare_cached(
        "INSERT INTO labels(account_id, prefix, name, value)
         SELECT id, ?2, ?3, ?4 FROM accounts WHERE uuid = ?1
         ON CONFLICT(account_id, prefix, name) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![
        account_uuid,
        label.prefix.as_deref().unwrap_or_default(),
        label.name,
        label.value
    ])?;
    Ok(())
}

pub fn remove(
    conn: &Connection,
    account_uuid: &str,
    prefix: Option<&str>,
    name: &str,
) -> super::Result<bool> {
    let n = conn
        .prepare_cached(
            "DELETE FROM labels WHERE prefix = ?2 AND name = ?3
             AND account_id = (SELECT id FROM accounts WHERE uuid = ?1)",
        )?
        .execute(params![account_uuid, prefix.unwrap_or_default(), name])?;
    Ok(n > 0)
}

impl LabelStore for Connection {
    fn all(&self, account_uuid: &str) -> StoreResult<Vec<Label>> {
        Ok(all(self, account_uuid)?)
    }

    fn find(
        &self,
        account_uuid: &str,
        prefix: Option<&str>,
        name: &str,
    ) -> StoreResult<Option<Label>> {
        Ok(find(self, account_uuid, prefix, name)?)
    }

    fn put(&self, account_uuid: &str, label: &Label) -> StoreResult<()> {
        Ok(put(self, account_uuid, label)?)
    }

    fn remove(&self, account_uuid: &str, prefix: Option<&str>, name: &str) -> StoreResult<bool> {
        Ok(remove(self, account_uuid, prefix, name)?)
    }

    fn of_group(&self, group_uuid: &str) -> StoreResult<Vec<Label>> {
        let mut stmt = self.prepare_cached(
            "SELECT l.prefix, l.name, l.value FROM group_labels l JOIN groups g ON g.id = l.group_id
             WHERE g.uuid = ?1 ORDER BY l.prefix, l.name",
        )?;
        let rows = stmt.query_map([group_uuid], from_row)?;
        Ok(rows.collect::<super::Result<_>>()?)
    }

    fn put_on_group(&self, group_uuid: &str, label: &Label) -> StoreResult<()> {
        self.prepare_cached(
            "INSERT INTO group_labels(group_id, prefix, name, value)
             SELECT id, ?2, ?3, ?4 FROM groups WHERE uuid = ?1
             ON CONFLICT(group_id, prefix, name) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![
            group_uuid,
            label.prefix.as_deref().unwrap_or_default(),
            label.name,
            label.value
        ])?;
        Ok(())
    }

    fn remove_from_group(
        &self,
        group_uuid: &str,
        prefix: Option<&str>,
        name: &str,
    ) -> StoreResult<bool> {
        let n = self
            .prepare_cached(
                "DELETE FROM group_labels WHERE prefix = ?2 AND name = ?3
                 AND group_id = (SELECT id FROM groups WHERE uuid = ?1)",
            )?
            .execute(params![group_uuid, prefix.unwrap_or_default(), name])?;
        Ok(n > 0)
    }
}
