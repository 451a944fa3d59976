//! Authority queries: which authorities exist and which accounts hold them.

use super::{Connection, params};
use crate::store::{AuthorityStore, StoreResult};

/// The authorities an account holds, `ROLE_USER` first and the rest sorted.
/// The authorities of accounts, `ROLE_USER` first (see [`super::per_account`]).
pub const OF_ACCOUNTS: &str = "SELECT au.name, a.uuid FROM account_authorities aa
     JOIN authorities au ON au.id = aa.authority_id JOIN accounts a ON a.id = aa.account_id
     WHERE a.uuid IN (SELECT value FROM json_each(?1)) ORDER BY au.name <> 'ROLE_USER', au.name";

pub fn of_account(conn: &Connection, uuid: &str) -> super::Result<Vec<String>> {
    super::for_account(conn, OF_ACCOUNTS, uuid, |r| r.get(0))
}

pub fn exists(conn: &Connection, name: &str) -> super::Result<bool> {
    conn.prepare_cached("SELECT EXISTS(SELECT 1 FROM authorities WHERE name = ?1)")?
        .query_row([name], |r| r.get(0))
}

/// Gives an existing authority to an account; false when it was already held (or either
/// does not exist).
pub fn grant(conn: &Connection, uuid: &str, name: &str) -> super::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO account_authorities(account_id, authority_id)
             SELECT a.id, au.id FROM accounts a, authorities au WHERE a.uuid = ?1 AND au.name = ?2
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![uuid, name])?;
    Ok(n > 0)
}

pub fn revoke(conn: &Connection, uuid: &str, name: &str) -> super::Result<bool> {
    let n = conn
        .prepare_cached(
            "DELETE FROM account_authorities
             WHERE account_id = (SELECT id FROM accounts WHERE uuid = ?1)
               AND authority_id = (SELECT id FROM authorities WHERE name = ?2)",
        )?
        .execute(params![uuid, name])?;
    Ok(n > 0)
}

impl AuthorityStore for Connection {
    fn of_account(&self, uuid: &str) -> StoreResult<Vec<String>> {
        Ok(of_account(self, uuid)?)
    }

    fn exists(&self, name: &str) -> StoreResult<bool> {
        Ok(exists(self, name)?)
    }

    fn grant(&self, uuid: &str, name: &str) -> StoreResult<bool> {
        Ok(grant(self, uuid, name)?)
    }

    fn revoke(&self, uuid: &str, name: &str) -> StoreResult<bool> {
        Ok(revoke(self, uuid, name)?)
    }
}
