//! OAuth client queries. Lists (scope, grants, redirect URIs) are stored space-separated;
//! secrets only as salted hashes.

use super::{Connection, OptionalExtension, Row, params};

use super::{now_ms, sql_int};
use crate::contract::types::Client;
use crate::store::{ClientStore, Credentials, NewClientRow, StoreResult};

const COLUMNS: &str = "c.client_id, c.name, c.description, c.scope, c.grant_types, c.redirect_uris,
                       c.token_endpoint_auth_method, c.active, c.created_ms, c.last_used_ms,
                       c.status_changed_ms, c.status_changed_by, c.access_token_validity_secs,
                       c.refresh_token_validity_secs";

fn words(s: String) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn client_from_row(r: &Row) -> super::Result<Client> {
    Ok(Client {
        client_id: r.get(0)?,
        client_name: r.get(1)?,
        client_description: r.get(2)?,
        scope: words(r.get(3)?),
        grant_types: words(r.get(4)?),
        redirect_uris: words(r.get(5)?),
        token_endpoint_auth_method: r.get(6)?,
        active: r.get(7)?,
        created: r.get(8)?,
        last_used: r.get(9)?,
        status_changed_on: r.get(10)?,
        status_changed_by: r.get(11)?,
        access_token_validity: r.get(12)?,
        refresh_token_validity: r.get(13)?,
    })
}

pub fn get(conn: &Connection, client_id: &str) -> super::Result<Option<Client>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM clients c WHERE c.client_id = ?1"
    ))?
    .query_row([client_id], client_from_row)
    .optional()
}

pub fn insert(conn: &Connection, c: &NewClientRow) -> super::Result<Client> {
    conn.prepare_cached(
        "INSERT INTO clients(client_id, secret_hash, name, description, scope, grant_types,
                             redirect_uris, token_endpoint_auth_method, active, created_ms,
                             access_token_validity_secs, refresh_token_validity_secs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        c.client_id,
        c.secret_hash,
        c.name,
        c.description,
        c.scope.join(" "),
        c.grant_types.join(" "),
        c.redirect_uris.join(" "),
        c.auth_method,
        c.active,
        now_ms(),
        c.access_token_validity,
        c.refresh_token_validity
    ])?;
    get(conn, c.client_id).map(|c| c.expect("client just inserted"))
}

pub fn delete(conn: &Connection, client_id: &str) -> super::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM clients WHERE client_id = ?1")?
        .execute([client_id])?
        > 0)
}

pub fn count(conn: &Connection) -> super::Result<u64> {
    conn.prepare_cached("SELECT count(*) FROM clients")?
        .query_row([], |r| r.get(0))
}

pub fn list(conn: &Connection, offset: u64, limit: u64) -> super::Result<Vec<Client>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM clients c ORDER BY c.id LIMIT ?1 OFFSET ?2"
    ))?
    .query_map(params![sql_int(limit), sql_int(offset)], client_from_row)?
    .collect()
}

pub fn add_owner(conn: &Connection, client_id: &str, account_uuid: &str) -> super::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO client_owners(client_id, account_id)
             SELECT c.id, a.id FROM clients c, accounts a WHERE c.client_id = ?1 AND a.uuid = ?2
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![client_id, account_uuid])?;
    Ok(n > 0)
}

pub fn remove_owner(conn: &Connection, client_id: &str, account_uuid: &str) -> super::Result<bool> {
    let n = conn
        .prepare_cached(
            "DELETE FROM client_owners
             WHERE client_id = (SELECT id FROM clients WHERE client_id = ?1)
               AND account_id = (SELECT id FROM accounts WHERE uuid = ?2)",
        )?
        .execute(params![client_id, account_uuid])?;
    Ok(n > 0)
}

const OWNED: &str = "c.id IN (SELECT o.client_id FROM client_owners o
                               JOIN accounts a ON a.id = o.account_id WHERE a.uuid = ?1)";

pub fn count_owned(conn: &Connection, account_uuid: &str) -> super::Result<u64> {
    conn.prepare_cached(&format!("SELECT count(*) FROM clients c WHERE {OWNED}"))?
        .query_row([account_uuid], |r| r.get(0))
}

pub fn owned(
    conn: &Connection,
    account_uuid: &str,
    offset: u64,
    limit: u64,
) -> super::Result<Vec<Client>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM clients c WHERE {OWNED} ORDER BY c.id LIMIT ?2 OFFSET ?3"
    ))?
    .query_map(
        params![account_uuid, sql_int(limit), sql_int(offset)],
        client_from_row,
    )?
    .collect()
}

pub fn credentials(conn: &Connection, client_id: &str) -> super::Result<Option<Credentials>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, c.secret_hash FROM clients c WHERE c.client_id = ?1"
    ))?
    .query_row([client_id], |r| {
        Ok(Credentials {
            client: client_from_row(r)?,
            secret_hash: r.get(14)?,
        })
    })
    .optional()
}

pub fn set_active(
    conn: &Connection,
    client_id: &str,
    active: bool,
    changed_by: Option<&str>,
) -> super::Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE clients SET active = ?2, status_changed_ms = ?3, status_changed_by = ?4
             WHERE client_id = ?1",
        )?
        .execute(params![client_id, active, now_ms(), changed_by])?
        > 0)
}

pub fn set_secret_hash(conn: &Connection, client_id: &str, hash: &str) -> super::Result<bool> {
    Ok(conn
        .prepare_cached("UPDATE clients SET secret_hash = ?2 WHERE client_id = ?1")?
        .execute(params![client_id, hash])?
        > 0)
}

/// Notes that the client just obtained a token.
pub fn mark_used(conn: &Connection, client_id: &str) -> super::Result<()> {
    conn.prepare_cached("UPDATE clients SET last_used_ms = ?2 WHERE client_id = ?1")?
        .execute(params![client_id, now_ms()])?;
    Ok(())
}

impl ClientStore for Connection {
    fn get(&self, client_id: &str) -> StoreResult<Option<Client>> {
        Ok(get(self, client_id)?)
    }

    fn insert(&self, c: &NewClientRow) -> StoreResult<Client> {
        Ok(insert(self, c)?)
    }

    fn delete(&self, client_id: &str) -> StoreResult<bool> {
        Ok(delete(self, client_id)?)
    }

    fn count(&self) -> StoreResult<u64> {
        Ok(count(self)?)
    }

    fn list(&self, offset: u64, limit: u64) -> StoreResult<Vec<Client>> {
        Ok(list(self, offset, limit)?)
    }

    fn add_owner(&self, client_id: &str, account_uuid: &str) -> StoreResult<bool> {
        Ok(add_owner(self, client_id, account_uuid)?)
    }

    fn remove_owner(&self, client_id: &str, account_uuid: &str) -> StoreResult<bool> {
        Ok(remove_owner(self, client_id, account_uuid)?)
    }

    fn count_owned(&self, account_uuid: &str) -> StoreResult<u64> {
        Ok(count_owned(self, account_uuid)?)
    }

    fn owned(&self, account_uuid: &str, offset: u64, limit: u64) -> StoreResult<Vec<Client>> {
        Ok(owned(self, account_uuid, offset, limit)?)
    }

    fn credentials(&self, client_id: &str) -> StoreResult<Option<Credentials>> {
        Ok(credentials(self, client_id)?)
    }

    fn mark_used(&self, client_id: &str) -> StoreResult<()> {
        Ok(mark_used(self, client_id)?)
    }

    fn set_active(
        &self,
        client_id: &str,
        active: bool,
        changed_by: Option<&str>,
    ) -> StoreResult<bool> {
        Ok(set_active(self, client_id, active, changed_by)?)
    }

    fn set_secret_hash(&self, client_id: &str, secret_hash: &str) -> StoreResult<bool> {
        Ok(set_secret_hash(self, client_id, secret_hash)?)
    }
}
