//! Linked identities: OIDC and SAML identities, SSH keys and X.509 certificates.

use super::{Connection, Dialect, Row, params};

use super::now_ms;
use crate::contract::types::{Certificate, OidcId, SamlId, SshKey};
use crate::store::{IdentityStore, StoreResult};

// The linked identities of accounts (see `super::per_account`), each with its row reader.

pub const OIDC_OF_ACCOUNTS: &str = "SELECT o.issuer, o.subject, a.uuid FROM oidc_ids o
     JOIN accounts a ON a.id = o.account_id
     WHERE a.uuid IN (SELECT value FROM json_each(?1)) ORDER BY o.issuer, o.subject";

pub fn oidc_from_row(r: &Row) -> super::Result<OidcId> {
    Ok(OidcId {
        issuer: r.get(0)?,
        subject: r.get(1)?,
    })
}

pub const SAML_OF_ACCOUNTS: &str = "SELECT s.idp_id, s.user_id, s.attribute_id, a.uuid FROM saml_ids s
     JOIN accounts a ON a.id = s.account_id
     WHERE a.uuid IN (SELECT value FROM json_each(?1)) ORDER BY s.idp_id, s.attribute_id, s.user_id";

pub fn saml_from_row(r: &Row) -> super::Result<SamlId> {
    Ok(SamlId {
        idp_id: r.get(0)?,
        user_id: r.get(1)?,
        attribute_id: r.get(2)?,
    })
}

pub const SSH_OF_ACCOUNTS: &str =
    "SELECT k.label, k.value, k.fingerprint, k.is_primary, k.created_ms,
            k.last_modified_ms, a.uuid
     FROM ssh_keys k JOIN accounts a ON a.id = k.account_id
     WHERE a.uuid IN (SELECT value FROM json_each(?1)) ORDER BY k.id";

pub fn ssh_from_row(r: &Row) -> super::Result<SshKey> {
    Ok(SshKey {
        display: r.get(0)?,
        value: r.get(1)?,
        fingerprint: r.get(2)?,
        primary: r.get(3)?,
        created: r.get(4)?,
        last_modified: r.get(5)?,
    })
}

pub const CERTIFICATES_OF_ACCOUNTS: &str = "SELECT c.label, c.subject_dn, c.issuer_dn, c.pem,
            c.is_primary, c.created_ms, c.last_modified_ms, c.proxy_chain IS NOT NULL,
            c.proxy_expiration_ms, a.uuid
     FROM certificates c JOIN accounts a ON a.id = c.account_id
     WHERE a.uuid IN (SELECT value FROM json_each(?1)) ORDER BY c.id";

pub fn certificate_from_row(r: &Row) -> super::Result<Certificate> {
    Ok(Certificate {
        display: r.get(0)?,
        subject_dn: r.get(1)?,
        issuer_dn: r.get(2)?,
        pem: r.get::<Option<String>>(3)?.unwrap_or_default(),
        primary: r.get(4)?,
        created: r.get(5)?,
        last_modified: r.get(6)?,
        has_proxy: r.get(7)?,
        proxy_expiration: r.get(8)?,
    })
}

pub fn certificate_owner(
    conn: &Connection,
    subject: &str,
    issuer: &str,
) -> super::Result<Option<String>> {
    owner(
        conn,
        "SELECT a.uuid FROM certificates c JOIN accounts a ON a.id = c.account_id
         WHERE c.subject_dn = ?1 AND c.issuer_dn = ?2",
        params![subject, issuer],
    )
}

/// The UUID of the account an OIDC identity is linked to.
pub fn oidc_owner(conn: &Connection, id: &OidcId) -> super::Result<Option<String>> {
    owner(
        conn,
        "SELECT a.uuid FROM oidc_ids o JOIN accounts a ON a.id = o.account_id
                  WHERE o.issuer = ?1 AND o.subject = ?2",
        params![id.issuer, id.subject],
    )
}

pub fn saml_owner(conn: &Connection, id: &SamlId) -> super::Result<Option<String>> {
    owner(
        conn,
        "SELECT a.uuid FROM saml_ids s JOIN accounts a ON a.id = s.account_id
         WHERE s.idp_id = ?1 AND s.user_id = ?2 AND s.attribute_id = ?3",
        params![id.idp_id, id.user_id, id.attribute_id],
    )
}

pub fn ssh_owner(conn: &Connection, fingerprint: &str) -> super::Result<Option<String>> {
    owner(
        conn,
        "SELECT a.uuid FROM ssh_keys k JOIN accounts a ON a.id = k.account_id
                  WHERE k.fingerprint = ?1",
        params![fingerprint],
    )
}

/// The error of a write that would reach into another account's linked identity. The
/// handlers check first (a 409); this keeps the store from ever doing it.
fn linked_elsewhere(what: &str) -> super::Error {
    super::Error::Constraint(format!("{what} is linked to another account"))
}

fn owner(conn: &Connection, sql: &str, p: impl super::Params) -> super::Result<Option<String>> {
    use super::OptionalExtension;
    conn.prepare_cached(sql)?
        .query_row(p, |r| r.get(0))
        .optional()
}

/// Replaces everything linked to the account. Unchanged SSH keys and certificates keep
/// their times (and certificates their proxies).
pub fn set(
    conn: &Connection,
    uuid: &str,
    oidc: &[OidcId],
    saml: &[SamlId],
    ssh: &[SshKey],
    certificates: &[Certificate],
) -> super::Result<()> {
    let account: i64 = conn
        .prepare_cached("SELECT id FROM accounts WHERE uuid = ?1")?
        .query_row([uuid], |r| r.get(0))?;
    conn.prepare_cached("DELETE FROM oidc_ids WHERE account_id = ?1")?
        .execute([account])?;
    for o in oidc {
        conn.prepare_cached(
            "INSERT INTO oidc_ids(account_id, issuer, subject) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![account, o.issuer, o.subject])?;
    }
    conn.prepare_cached("DELETE FROM saml_ids WHERE account_id = ?1")?
        .execute([account])?;
    for s in saml {
        conn.prepare_cached("INSERT INTO saml_ids(account_id, idp_id, user_id, attribute_id) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![account, s.idp_id, s.user_id, s.attribute_id])?;
    }
    let fingerprints: Vec<&str> = ssh.iter().map(|k| k.fingerprint.as_str()).collect();
    let kept = serde_json::to_string(&fingerprints).unwrap_or_default();
    conn.prepare_cached(
        "DELETE FROM ssh_keys WHERE account_id = ?1 AND fingerprint NOT IN (SELECT value FROM json_each(?2))",
    )?
    .execute(params![account, kept])?;
    let now = now_ms();
    for k in ssh {
        let written = conn.prepare_cached(
            "INSERT INTO ssh_keys(account_id, label, fingerprint, value, is_primary, created_ms, last_modified_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
             ON CONFLICT(fingerprint) DO UPDATE SET label = excluded.label, is_primary = excluded.is_primary,
                 last_modified_ms = CASE WHEN ssh_keys.label IS NOT DISTINCT FROM excluded.label
                                          AND ssh_keys.is_primary = excluded.is_primary
                                         THEN ssh_keys.last_modified_ms ELSE excluded.last_modified_ms END
             WHERE ssh_keys.account_id = excluded.account_id",
        )?
        .execute(params![account, k.display, k.fingerprint, k.value, k.primary, now])?;
        if written == 0 {
            return Err(linked_elsewhere(&format!("SSH key {}", k.fingerprint)));
        }
    }
    set_certificates(conn, account, certificates)
}

/// Replaces the account's certificates; unchanged ones keep their times and proxies.
fn set_certificates(
    conn: &Connection,
    account: i64,
    certificates: &[Certificate],
) -> super::Result<()> {
    let keep: Vec<[&str; 2]> = certificates
        .iter()
        .map(|c| [c.subject_dn.as_str(), c.issuer_dn.as_str()])
        .collect();
    let kept = match conn.dialect() {
        Dialect::Sqlite => {
            "SELECT 1 FROM json_each(?2) k
             WHERE json_extract(k.value, '$[0]') = subject_dn AND json_extract(k.value, '$[1]') = issuer_dn"
        }
        Dialect::Postgres => {
            "SELECT 1 FROM json_array_elements(CAST(?2 AS json)) k
             WHERE k.value->>0 = subject_dn AND k.value->>1 = issuer_dn"
        }
    };
    conn.prepare_cached(&format!(
        "DELETE FROM certificates WHERE account_id = ?1 AND NOT EXISTS ({kept})"
    ))?
    .execute(params![
        account,
        serde_json::to_string(&keep).unwrap_or_default()
    ])?;
    let now = now_ms();
    for (i, c) in certificates.iter().enumerate() {
        let label = c.display.clone().unwrap_or_else(|| format!("cert-{i}"));
        let written = conn.prepare_cached(
            "INSERT INTO certificates(account_id, label, subject_dn, issuer_dn, pem, is_primary, created_ms, last_modified_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
             ON CONFLICT(subject_dn, issuer_dn) DO UPDATE SET
                 last_modified_ms = CASE WHEN certificates.label IS NOT DISTINCT FROM excluded.label
                                          AND certificates.pem IS NOT DISTINCT FROM excluded.pem
                                          AND certificates.is_primary = excluded.is_primary
                                         THEN certificates.last_modified_ms ELSE excluded.last_modified_ms END,
                 label = excluded.label, pem = excluded.pem, is_primary = excluded.is_primary
             WHERE certificates.account_id = excluded.account_id",
        )?
        .execute(params![account, label, c.subject_dn, c.issuer_dn, c.pem, c.primary, now])?;
        if written == 0 {
            return Err(certificate_elsewhere(c));
        }
    }
    Ok(())
}

fn certificate_elsewhere(c: &Certificate) -> super::Error {
    linked_elsewhere(&format!(
        "the certificate (subject: {}, issuer: {})",
        c.subject_dn, c.issuer_dn
    ))
}

/// Links a certificate to the account, or refreshes the PEM of the account's one with the
/// same subject and issuer; another account's certificate is left alone (an error).
pub fn link_certificate(conn: &Connection, uuid: &str, c: &Certificate) -> super::Result<()> {
    let count: i64 = conn
        .prepare_cached("SELECT count(*) FROM certificates WHERE account_id = (SELECT id FROM accounts WHERE uuid = ?1)")?
        .query_row([uuid], |r| r.get(0))?;
    let written = conn.prepare_cached(
        "INSERT INTO certificates(account_id, label, subject_dn, issuer_dn, pem, is_primary, created_ms, last_modified_ms)
         SELECT id, CAST(?2 AS TEXT), CAST(?3 AS TEXT), CAST(?4 AS TEXT), CAST(?5 AS TEXT), 1, CAST(?6 AS BIGINT), CAST(?6 AS BIGINT) FROM accounts WHERE uuid = ?1
         ON CONFLICT(subject_dn, issuer_dn) DO UPDATE SET pem = excluded.pem, last_modified_ms = excluded.last_modified_ms
         WHERE certificates.account_id = excluded.account_id",
    )?
    .execute(params![uuid, format!("cert-{count}"), c.subject_dn, c.issuer_dn, c.pem, now_ms()])?;
    if written == 0 {
        return Err(certificate_elsewhere(c));
    }
    Ok(())
}

/// Stores the proxy of the account's certificate with this subject and issuer. Only that
/// account's row is written: a (subject, issuer) pair of another account is an error.
pub fn set_proxy(
    conn: &Connection,
    uuid: &str,
    subject: &str,
    issuer: &str,
    chain: &str,
    expiration: u64,
) -> super::Result<()> {
    let written = conn
        .prepare_cached(
            "UPDATE certificates SET proxy_chain = ?4, proxy_expiration_ms = ?5
             WHERE subject_dn = ?2 AND issuer_dn = ?3
               AND account_id = (SELECT id FROM accounts WHERE uuid = ?1)",
        )?
        .execute(params![uuid, subject, issuer, chain, expiration])?;
    if written == 0 {
        return Err(super::Error::Constraint(format!(
            "no certificate (subject: {subject}, issuer: {issuer}) is linked to account {uuid}"
        )));
    }
    Ok(())
}

impl IdentityStore for Connection {
    fn certificate_owner(&self, subject: &str, issuer: &str) -> StoreResult<Option<String>> {
        Ok(certificate_owner(self, subject, issuer)?)
    }

    fn oidc_owner(&self, id: &OidcId) -> StoreResult<Option<String>> {
        Ok(oidc_owner(self, id)?)
    }

    fn saml_owner(&self, id: &SamlId) -> StoreResult<Option<String>> {
        Ok(saml_owner(self, id)?)
    }

    fn ssh_owner(&self, fingerprint: &str) -> StoreResult<Option<String>> {
        Ok(ssh_owner(self, fingerprint)?)
    }

    fn set(
        &self,
        uuid: &str,
        oidc: &[OidcId],
        saml: &[SamlId],
        ssh: &[SshKey],
        certificates: &[Certificate],
    ) -> StoreResult<()> {
        Ok(set(self, uuid, oidc, saml, ssh, certificates)?)
    }

    fn link_certificate(&self, uuid: &str, c: &Certificate) -> StoreResult<()> {
        Ok(link_certificate(self, uuid, c)?)
    }

    fn set_proxy(
        &self,
        uuid: &str,
        subject: &str,
        issuer: &str,
        chain: &str,
        expiration: u64,
    ) -> StoreResult<()> {
        Ok(set_proxy(self, uuid, subject, issuer, chain, expiration)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::sqlite::open_for_tests(&dir.path().join("iam.db"));
        for (uuid, name) in [("a", "alice"), ("m", "mallory")] {
            conn.execute(
                "INSERT INTO accounts(uuid, username, email, given_name, family_name,
                                      created_ms, last_modified_ms)
                 VALUES (?1, ?2, ?2 || '@example.org', 'G', 'F', 0, 0)",
                params![uuid, name],
            )
            .unwrap();
        }
        (dir, conn)
    }

    fn cert(issuer: &str, pem: &str) -> Certificate {
        Certificate {
            display: None,
            subject_dn: "CN=alice".into(),
            issuer_dn: issuer.into(),
            pem: pem.into(),
            primary: true,
            created: 0,
            last_modified: 0,
            has_proxy: false,
            proxy_expiration: None,
        }
    }

    fn stored(conn: &Connection) -> (String, String, Option<String>) {
        conn.query_row(
            "SELECT a.uuid, c.pem, c.proxy_chain FROM certificates c
             JOIN accounts a ON a.id = c.account_id WHERE c.issuer_dn = 'CN=CA'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    }

    #[test]
    fn writes_never_reach_another_accounts_certificate() {
        let (_dir, conn) = db();
        link_certificate(&conn, "a", &cert("CN=CA", "alice's")).unwrap();
        set_proxy(&conn, "a", "CN=alice", "CN=CA", "alice's proxy", 1).unwrap();

        // The same subject and issuer from another account: refused, nothing changes.
        assert!(link_certificate(&conn, "m", &cert("CN=CA", "forged")).is_err());
        assert!(set_proxy(&conn, "m", "CN=alice", "CN=CA", "mallory's", 2).is_err());
        let scim = set(&conn, "m", &[], &[], &[], &[cert("CN=CA", "forged")]);
        assert!(scim.is_err());
        let want = (
            "a".to_string(),
            "alice's".to_string(),
            Some("alice's proxy".into()),
        );
        assert_eq!(stored(&conn), want);

        // The owner may refresh it; a pair of its own from another issuer is its own row.
        link_certificate(&conn, "a", &cert("CN=CA", "renewed")).unwrap();
        assert_eq!(stored(&conn).1, "renewed");
        link_certificate(&conn, "m", &cert("CN=Evil", "mallory's")).unwrap();
        set_proxy(&conn, "m", "CN=alice", "CN=Evil", "mallory's", 2).unwrap();
        assert_eq!(stored(&conn).2.as_deref(), Some("alice's proxy"));
    }
}
