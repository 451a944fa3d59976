//! Versioned schema migrations. `PRAGMA user_version` records how many have run; each runs
//! once, in its own transaction, at start. Append new migrations; never edit old ones.

use rusqlite::Connection;

pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the account model of INDIGO IAM.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );

    CREATE TABLE signing_keys (
        kid         TEXT PRIMARY KEY,
        private_pem TEXT NOT NULL,
        public_x    TEXT NOT NULL,
        public_y    TEXT NOT NULL,
        created_ms  INTEGER NOT NULL
    );

    CREATE TABLE accounts (
        id               INTEGER PRIMARY KEY,
        uuid             TEXT NOT NULL UNIQUE,
        username         TEXT NOT NULL UNIQUE,
        email            TEXT NOT NULL,
        given_name       TEXT NOT NULL,
        family_name      TEXT NOT NULL,
        password_hash    TEXT,
        active           INTEGER NOT NULL DEFAULT 1,
        service_account  INTEGER NOT NULL DEFAULT 0,
        created_ms       INTEGER NOT NULL,
        last_modified_ms INTEGER NOT NULL,
        end_time_ms      INTEGER
    );
    CREATE INDEX accounts_email ON accounts(email);
    CREATE INDEX accounts_end_time ON accounts(end_time_ms) WHERE end_time_ms IS NOT NULL;

    CREATE TABLE groups (
        id               INTEGER PRIMARY KEY,
        uuid             TEXT NOT NULL UNIQUE,
        name             TEXT NOT NULL UNIQUE,
        description      TEXT,
        parent_id        INTEGER REFERENCES groups(id),
        created_ms       INTEGER NOT NULL,
        last_modified_ms INTEGER NOT NULL
    );
    CREATE INDEX groups_parent ON groups(parent_id);

    CREATE TABLE memberships (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        group_id   INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        created_ms INTEGER NOT NULL,
        PRIMARY KEY (account_id, group_id)
    );
    CREATE INDEX memberships_group ON memberships(group_id, account_id);

    -- ROLE_ADMIN, ROLE_USER, ... and one ROLE_GM:<group uuid> per group (deleted with it).
    CREATE TABLE authorities (
        id       INTEGER PRIMARY KEY,
        name     TEXT NOT NULL UNIQUE,
        group_id INTEGER UNIQUE REFERENCES groups(id) ON DELETE CASCADE
    );
    INSERT INTO authorities(name) VALUES
        ('ROLE_ADMIN'), ('ROLE_USER'), ('ROLE_PRE_AUTHENTICATED'), ('ROLE_READER');

    CREATE TABLE account_authorities (
        account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        authority_id INTEGER NOT NULL REFERENCES authorities(id) ON DELETE CASCADE,
        PRIMARY KEY (account_id, authority_id)
    );
    CREATE INDEX account_authorities_authority ON account_authorities(authority_id, account_id);

    CREATE TABLE attributes (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name       TEXT NOT NULL,
        value      TEXT,
        PRIMARY KEY (account_id, name)
    );

    -- prefix '' is the unprefixed label.
    CREATE TABLE labels (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        prefix     TEXT NOT NULL DEFAULT '',
        name       TEXT NOT NULL,
        value      TEXT,
        PRIMARY KEY (account_id, prefix, name)
    );
    CREATE INDEX labels_name ON labels(name, prefix, value);

    CREATE TABLE group_labels (
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        prefix   TEXT NOT NULL DEFAULT '',
        name     TEXT NOT NULL,
        value    TEXT,
        PRIMARY KEY (group_id, prefix, name)
    );

    CREATE TABLE certificates (
        id                  INTEGER PRIMARY KEY,
        account_id          INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        label               TEXT NOT NULL,
        subject_dn          TEXT NOT NULL,
        issuer_dn           TEXT NOT NULL,
        pem                 TEXT,
        is_primary          INTEGER NOT NULL DEFAULT 0,
        created_ms          INTEGER NOT NULL,
        last_modified_ms    INTEGER NOT NULL,
        proxy_chain         TEXT,
        proxy_expiration_ms INTEGER,
        UNIQUE (subject_dn, issuer_dn)
    );
    CREATE INDEX certificates_account ON certificates(account_id);

    CREATE TABLE oidc_ids (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        issuer     TEXT NOT NULL,
        subject    TEXT NOT NULL,
        PRIMARY KEY (issuer, subject)
    );
    CREATE INDEX oidc_ids_account ON oidc_ids(account_id);

    CREATE TABLE saml_ids (
        account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        idp_id       TEXT NOT NULL,
        user_id      TEXT NOT NULL,
        attribute_id TEXT NOT NULL,
        PRIMARY KEY (idp_id, attribute_id, user_id)
    );
    CREATE INDEX saml_ids_account ON saml_ids(account_id);

    CREATE TABLE ssh_keys (
        id               INTEGER PRIMARY KEY,
        account_id       INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        label            TEXT,
        fingerprint      TEXT NOT NULL UNIQUE,
        value            TEXT NOT NULL,
        is_primary       INTEGER NOT NULL DEFAULT 0,
        created_ms       INTEGER NOT NULL,
        last_modified_ms INTEGER NOT NULL
    );
    CREATE INDEX ssh_keys_account ON ssh_keys(account_id);

    CREATE TABLE clients (
        id                         INTEGER PRIMARY KEY,
        client_id                  TEXT NOT NULL UNIQUE,
        secret_hash                TEXT,
        name                       TEXT,
        description                TEXT,
        scope                      TEXT NOT NULL DEFAULT '',
        grant_types                TEXT NOT NULL DEFAULT '',
        redirect_uris              TEXT NOT NULL DEFAULT '',
        token_endpoint_auth_method TEXT NOT NULL DEFAULT 'client_secret_basic',
        active                     INTEGER NOT NULL DEFAULT 1,
        created_ms                 INTEGER NOT NULL,
        last_used_ms               INTEGER,
        status_changed_ms          INTEGER,
        status_changed_by          TEXT
    );

    CREATE TABLE client_owners (
        client_id  INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        PRIMARY KEY (client_id, account_id)
    );
    CREATE INDEX client_owners_account ON client_owners(account_id);
    "#,
    // 2: the optional SCIM profile (nickName, profileUrl, locale, timezone, photo, address);
    // a row only for accounts that have one.
    r#"
    CREATE TABLE account_profiles (
        account_id          INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        nick_name           TEXT,
        profile_url         TEXT,
        locale              TEXT,
        timezone            TEXT,
        picture             TEXT,
        has_address         INTEGER NOT NULL DEFAULT 0,
        address_formatted   TEXT,
        address_street      TEXT,
        address_locality    TEXT,
        address_region      TEXT,
        address_postal_code TEXT,
        address_country     TEXT
    );
    "#,
    // 3: the OAuth front door: per-client token lifetimes (NULL: the server's default),
    // refresh tokens (only their SHA-256 is stored; they die with their account or client)
    // and the ids of revoked access tokens until those expire.
    r#"
    ALTER TABLE clients ADD COLUMN access_token_validity_secs INTEGER;
    ALTER TABLE clients ADD COLUMN refresh_token_validity_secs INTEGER;

    CREATE TABLE refresh_tokens (
        id         INTEGER PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        client_id  INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        scope      TEXT NOT NULL,
        audience   TEXT,
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER
    );
    CREATE INDEX refresh_tokens_account ON refresh_tokens(account_id);
    CREATE INDEX refresh_tokens_client ON refresh_tokens(client_id);

    CREATE TABLE revoked_tokens (
        jti        TEXT PRIMARY KEY,
        expires_ms INTEGER NOT NULL
    );
    CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_ms);
    "#,
    // 4: a group's members in username order without sorting the whole group: each
    // membership keeps its account's username (triggers keep it right), indexed per group.
    r#"
    ALTER TABLE memberships ADD COLUMN username TEXT NOT NULL DEFAULT '';
    UPDATE memberships
       SET username = (SELECT username FROM accounts WHERE id = memberships.account_id);
    CREATE INDEX memberships_group_username ON memberships(group_id, username);
    CREATE TRIGGER memberships_username_on_join AFTER INSERT ON memberships
    BEGIN
        UPDATE memberships
           SET username = (SELECT username FROM accounts WHERE id = NEW.account_id)
         WHERE rowid = NEW.rowid;
    END;
    CREATE TRIGGER memberships_username_on_rename AFTER UPDATE OF username ON accounts
    BEGIN
        UPDATE memberships SET username = NEW.username WHERE account_id = NEW.id;
    END;
    "#,
    // 5: account search at scale. A trigram index answers the substring filter (LIKE on
    // each searched field) without reading every account; triggers keep it in step. The
    // sort orders get indexes, so a deep page walks an index instead of sorting.
    r#"
    CREATE VIRTUAL TABLE accounts_search USING fts5(
        email, username, uuid, full_name, tokenize = 'trigram'
    );
    INSERT INTO accounts_search(rowid, email, username, uuid, full_name)
        SELECT id, email, username, uuid, given_name || ' ' || family_name FROM accounts;
    CREATE TRIGGER accounts_search_insert AFTER INSERT ON accounts
    BEGIN
        INSERT INTO accounts_search(rowid, email, username, uuid, full_name)
        VALUES (NEW.id, NEW.email, NEW.username, NEW.uuid,
                NEW.given_name || ' ' || NEW.family_name);
    END;
    CREATE TRIGGER accounts_search_update
        AFTER UPDATE OF email, username, uuid, given_name, family_name ON accounts
    BEGIN
        UPDATE accounts_search
           SET email = NEW.email, username = NEW.username, uuid = NEW.uuid,
               full_name = NEW.given_name || ' ' || NEW.family_name
         WHERE rowid = NEW.id;
    END;
    CREATE TRIGGER accounts_search_delete AFTER DELETE ON accounts
    BEGIN
        DELETE FROM accounts_search WHERE rowid = OLD.id;
    END;
    CREATE INDEX accounts_by_name ON accounts(lower(given_name), lower(family_name));
    CREATE INDEX accounts_by_email ON accounts(lower(email));
    CREATE INDEX accounts_by_creation ON accounts(created_ms);
    "#,
    // 6: the members' index covers the account id too, so a page of a big group is cut
    // from the index alone.
    r#"
    DROP INDEX memberships_group_username;
    CREATE INDEX memberships_group_username ON memberships(group_id, username, account_id);
    "#,
    // 7: a counter of the changes to the order of the account list (an account created or
    // deleted, a sort key changed), so remembered positions of deep pages (`positions.rs`)
    // are known to be current.
    r#"
    CREATE TABLE account_order_version (v INTEGER NOT NULL);
    INSERT INTO account_order_version(v) VALUES (0);
    CREATE TRIGGER account_order_on_insert AFTER INSERT ON accounts
    BEGIN
        UPDATE account_order_version SET v = v + 1;
    END;
    CREATE TRIGGER account_order_on_delete AFTER DELETE ON accounts
    BEGIN
        UPDATE account_order_version SET v = v + 1;
    END;
    CREATE TRIGGER account_order_on_update
        AFTER UPDATE OF given_name, family_name, email, created_ms ON accounts
    BEGIN
        UPDATE account_order_version SET v = v + 1;
    END;
    "#,
    // 8: attributes of groups (group labels have had their table since 1).
    r#"
    CREATE TABLE group_attributes (
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        name     TEXT NOT NULL,
        value    TEXT,
        PRIMARY KEY (group_id, name)
    );
    "#,
    // 9: SCIM filters run in the database (`scim_sql.rs`): indexes for the comparisons
    // clients make most (`name.familyName eq`, `displayName eq` of users, which folds case,
    // `meta.lastModified gt`, `oidcIds.subject eq`, `samlIds.userId eq`; the others already
    // have one) and for sorting by them.
    r#"
    CREATE INDEX accounts_by_family_name ON accounts(lower(family_name));
    CREATE INDEX accounts_by_username_nocase ON accounts(lower(username));
    CREATE INDEX accounts_by_modification ON accounts(last_modified_ms);
    CREATE INDEX oidc_ids_subject ON oidc_ids(subject);
    CREATE INDEX saml_ids_user ON saml_ids(user_id);
    CREATE INDEX groups_by_modification ON groups(last_modified_ms);
    "#,
    // 10: for servers sharing a database: failed credential checks (`auth::throttle`), and
    // keys published before they sign.
    r#"
    CREATE TABLE throttle_records (
        key             TEXT PRIMARY KEY,
        failures        INTEGER NOT NULL,
        last_failure_ms INTEGER NOT NULL
    );
    CREATE INDEX throttle_records_by_time ON throttle_records(last_failure_ms);
    -- A key is published at once and signs from `signs_from_ms` on (`keys rotate
    -- --publish-for`), so every server and relying party knows it before its first token.
    ALTER TABLE signing_keys ADD COLUMN signs_from_ms INTEGER NOT NULL DEFAULT 0;
    "#,
    // 11: the audit trail, stored in the transaction of each change (`store::audit`).
    r#"
    CREATE TABLE audit_events (
        id            INTEGER PRIMARY KEY,
        time_ms       INTEGER NOT NULL,
        request       TEXT NOT NULL,
        category      TEXT NOT NULL,
        type          TEXT NOT NULL,
        actor_account TEXT,
        actor_client  TEXT,
        actor_job     TEXT,
        source        TEXT,
        account       TEXT,
        grp           TEXT,
        detail        TEXT NOT NULL
    );
    CREATE INDEX audit_events_by_time ON audit_events(time_ms);
    CREATE INDEX audit_events_by_account ON audit_events(account) WHERE account IS NOT NULL;
    CREATE INDEX audit_events_by_group ON audit_events(grp) WHERE grp IS NOT NULL;
    CREATE INDEX audit_events_by_type ON audit_events(type);
    CREATE INDEX audit_events_by_actor ON audit_events(actor_account) WHERE actor_account IS NOT NULL;
    "#,
];

/// Runs the migrations the database has not seen yet.
pub fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let done: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    // A newer server migrated this database: running on it could misread what it wrote.
    anyhow::ensure!(
        done <= MIGRATIONS.len(),
        "the database schema is at version {done}, newer than this server knows ({}): \
         run the newer server",
        MIGRATIONS.len()
    );
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let now: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > i {
            tx.commit()?;
            continue;
        }
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
    }
    Ok(())
}
