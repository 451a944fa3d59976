//! One account: lookups, writes, and completing one user. The lists and pages of users,
//! and the completion of a whole page of them at once, are in `account_pages`.

use super::{Connection, Dialect, OptionalExtension, Row, params};

use super::account_pages::{
    complete_all, count_in_group, count_matching, count_users, count_with_authority_nocase,
    count_with_label, find_users, in_group, list_users, members_of, search, with_authority,
    with_authority_nocase, with_label,
};
use super::now_ms;
use super::scim_sql::list_query;
use crate::contract::AccountUpdate;
use crate::contract::types::{Account, AccountOrder, LabelFilter, ListQuery, User};
use crate::store::{AccountStore, NewAccount, StoreError, StoreResult};

/// The columns of `accounts a` that [`account_from_row`] reads.
pub(super) const COLUMNS: &str = "a.uuid, a.username, a.given_name, a.family_name, a.email, \
                                  a.active, a.service_account, a.created_ms, \
                                  a.last_modified_ms, a.end_time_ms";

pub(super) fn account_from_row(r: &Row) -> super::Result<Account> {
    Ok(Account {
        id: r.get(0)?,
        username: r.get(1)?,
        given_name: r.get(2)?,
        family_name: r.get(3)?,
        email: r.get(4)?,
        active: r.get(5)?,
        service_account: r.get(6)?,
        created: r.get(7)?,
        last_modified: r.get(8)?,
        end_time: r.get(9)?,
    })
}

fn one(conn: &Connection, condition: &str, value: &str) -> super::Result<Option<Account>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM accounts a WHERE {condition} LIMIT 1"
    ))?
    .query_row([value], account_from_row)
    .optional()
}

pub fn by_uuid(conn: &Connection, uuid: &str) -> super::Result<Option<Account>> {
    one(conn, "a.uuid = ?1", uuid)
}

pub fn by_username(conn: &Connection, username: &str) -> super::Result<Option<Account>> {
    one(conn, "a.username = ?1", username)
}

pub fn by_email(conn: &Connection, email: &str) -> super::Result<Option<Account>> {
    one(conn, "a.email = ?1 ORDER BY a.id", email)
}

pub fn user(conn: &Connection, uuid: &str) -> super::Result<Option<User>> {
    match by_uuid(conn, uuid)? {
        Some(a) => Ok(complete_all(conn, vec![a])?.pop()),
        None => Ok(None),
    }
}

pub fn insert(conn: &Connection, new: &NewAccount, authorities: &[&str]) -> super::Result<Account> {
    let now = now_ms();
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO accounts(uuid, username, email, given_name, family_name, password_hash,
                                  active, created_ms, last_modified_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) RETURNING id",
        )?
        .query_row(
            params![
                new.uuid,
                new.username,
                new.email,
                new.given_name,
                new.family_name,
                new.password_hash,
                new.active,
                now
            ],
            |r| r.get(0),
        )?;
    for authority in authorities {
        conn.prepare_cached(
            "INSERT INTO account_authorities(account_id, authority_id)
             SELECT CAST(?1 AS BIGINT), id FROM authorities WHERE name = ?2",
        )?
        .execute(params![id, authority])?;
    }
    by_uuid(conn, new.uuid).map(|a| a.expect("account just inserted"))
}

pub fn update(
    conn: &Connection,
    uuid: &str,
    c: &AccountUpdate,
    password_hash: Option<&str>,
) -> super::Result<()> {
    conn.prepare_cached(
        "UPDATE accounts SET username = ?2, email = ?3, given_name = ?4, family_name = ?5,
                active = ?6, password_hash = coalesce(?7, password_hash), last_modified_ms = ?8
         WHERE uuid = ?1",
    )?
    .execute(params![
        uuid,
        c.username,
        c.email,
        c.given_name,
        c.family_name,
        c.active,
        password_hash,
        now_ms()
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, uuid: &str) -> super::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM accounts WHERE uuid = ?1")?
        .execute([uuid])?
        > 0)
}

pub fn touch(conn: &Connection, uuid: &str) -> super::Result<()> {
    conn.prepare_cached("UPDATE accounts SET last_modified_ms = ?2 WHERE uuid = ?1")?
        .execute(params![uuid, now_ms()])?;
    Ok(())
}

pub fn set_end_time(conn: &Connection, uuid: &str, end_time: Option<u64>) -> super::Result<()> {
    conn.prepare_cached("UPDATE accounts SET end_time_ms = ?2 WHERE uuid = ?1")?
        .execute(params![uuid, end_time])?;
    Ok(())
}

pub fn set_active(conn: &Connection, uuid: &str, active: bool) -> super::Result<()> {
    conn.prepare_cached("UPDATE accounts SET active = ?2 WHERE uuid = ?1")?
        .execute(params![uuid, active])?;
    Ok(())
}

pub fn expired_before(conn: &Connection, time: u64) -> super::Result<Vec<Account>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM accounts a WHERE a.end_time_ms < ?1 ORDER BY a.end_time_ms, a.id"
    ))?
    .query_map([time], account_from_row)?
    .collect()
}

/// Every account. PostgreSQL keeps the number in `account_count` (its count(*) reads a
/// whole index); SQLite counts the entries of its smallest index, which is as fast.
pub fn count(conn: &Connection) -> super::Result<u64> {
    let sql = match conn.dialect() {
        Dialect::Sqlite => "SELECT count(*) FROM accounts",
        Dialect::Postgres => "SELECT n FROM account_count",
    };
    conn.prepare_cached(sql)?.query_row([], |r| r.get(0))
}

pub fn by_cert_subject(conn: &Connection, subject: &str) -> super::Result<Option<Account>> {
    one(
        conn,
        "a.id = (SELECT account_id FROM certificates WHERE subject_dn = ?1 ORDER BY id LIMIT 1)",
        subject,
    )
}

pub fn password_hash(conn: &Connection, uuid: &str) -> super::Result<Option<String>> {
    conn.prepare_cached("SELECT password_hash FROM accounts WHERE uuid = ?1")?
        .query_row([uuid], |r| r.get(0))
        .optional()
        .map(Option::flatten)
}

impl AccountStore for Connection {
    fn by_uuid(&self, uuid: &str) -> StoreResult<Option<Account>> {
        Ok(by_uuid(self, uuid)?)
    }

    fn by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        Ok(by_username(self, username)?)
    }

    fn by_email(&self, email: &str) -> StoreResult<Option<Account>> {
        Ok(by_email(self, email)?)
    }

    fn user(&self, uuid: &str) -> StoreResult<Option<User>> {
        Ok(user(self, uuid)?)
    }

    fn insert(&self, new: &NewAccount, authorities: &[&str]) -> StoreResult<Account> {
        Ok(insert(self, new, authorities)?)
    }

    fn update(
        &self,
        uuid: &str,
        c: &AccountUpdate,
        password_hash: Option<&str>,
    ) -> StoreResult<()> {
        Ok(update(self, uuid, c, password_hash)?)
    }

    fn delete(&self, uuid: &str) -> StoreResult<bool> {
        Ok(delete(self, uuid)?)
    }

    fn touch(&self, uuid: &str) -> StoreResult<()> {
        Ok(touch(self, uuid)?)
    }

    fn set_end_time(&self, uuid: &str, end_time: Option<u64>) -> StoreResult<()> {
        Ok(set_end_time(self, uuid, end_time)?)
    }

    fn set_active(&self, uuid: &str, active: bool) -> StoreResult<()> {
        Ok(set_active(self, uuid, active)?)
    }

    fn expired_before(&self, time: u64) -> StoreResult<Vec<Account>> {
        Ok(expired_before(self, time)?)
    }

    fn count(&self) -> StoreResult<u64> {
        Ok(count(self)?)
    }

    fn count_matching(&self, filter: Option<&str>) -> StoreResult<u64> {
        Ok(count_matching(self, filter)?)
    }

    fn search(
        &self,
        filter: Option<&str>,
        order: AccountOrder,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>> {
        Ok(search(self, filter, order, descending, offset, limit)?)
    }

    fn by_cert_subject(&self, subject: &str) -> StoreResult<Option<Account>> {
        Ok(by_cert_subject(self, subject)?)
    }

    fn count_with_label(&self, f: &LabelFilter) -> StoreResult<u64> {
        Ok(count_with_label(self, f)?)
    }

    fn with_label(&self, f: &LabelFilter, offset: u64, limit: u64) -> StoreResult<Vec<User>> {
        Ok(with_label(self, f, offset, limit)?)
    }

    fn count_in_group(&self, group: &str, member: bool, filter: Option<&str>) -> StoreResult<u64> {
        Ok(count_in_group(self, group, member, filter)?)
    }

    fn in_group(
        &self,
        group: &str,
        member: bool,
        filter: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>> {
        Ok(in_group(self, group, member, filter, offset, limit)?)
    }

    fn count_with_authority_nocase(&self, authority: &str) -> StoreResult<u64> {
        Ok(count_with_authority_nocase(self, authority)?)
    }

    fn with_authority_nocase(
        &self,
        authority: &str,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>> {
        Ok(with_authority_nocase(self, authority, offset, limit)?)
    }

    fn members_of(&self, group_uuid: &str, offset: u64, limit: u64) -> StoreResult<Vec<User>> {
        Ok(members_of(self, group_uuid, offset, limit)?)
    }

    fn with_authority(&self, authority: &str) -> StoreResult<Vec<User>> {
        Ok(with_authority(self, authority)?)
    }

    fn list_users(&self, offset: u64, limit: u64) -> StoreResult<Vec<User>> {
        Ok(list_users(self, offset, limit)?)
    }

    fn count_users(&self, query: &ListQuery) -> StoreResult<u64> {
        let (condition, _) = list_query(query, true, self.dialect()).map_err(StoreError::other)?;
        Ok(count_users(self, &condition)?)
    }

    fn find_users(&self, query: &ListQuery, offset: u64, limit: u64) -> StoreResult<Vec<User>> {
        let (condition, order) =
            list_query(query, true, self.dialect()).map_err(StoreError::other)?;
        Ok(find_users(self, &condition, &order, offset, limit)?)
    }

    fn password_hash(&self, uuid: &str) -> StoreResult<Option<String>> {
        Ok(password_hash(self, uuid)?)
    }
}
