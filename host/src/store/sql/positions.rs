//! Deep pages of the account list without walking the sort order from its start.
//!
//! OFFSET paging makes SQLite step through every entry before the page: about 35 ms for
//! `startIndex=900000` of a million accounts. Instead, the sort key of every `STEP`-th
//! account is remembered (per database, order and direction), and a deep page is read
//! from the nearest remembered position onward, through the same indexes. What is
//! remembered holds until an account is created or deleted or a sort key changes: the
//! triggers of migration 7 count such changes in `account_order_version`, read in the
//! page's own transaction, so a stale directory is never used.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use super::Value;
use super::{Connection, Dialect, params_from_iter};

use super::sql_int;

/// Accounts between two remembered positions.
const STEP: u64 = 1024;
/// Pages starting before this walk from the start: cheap, and no directory to build.
const DEEP: u64 = 4 * STEP;

/// The orders of the account list; each is its key expressions, then the account id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Order {
    /// First name, then last name, ignoring case (the search's default).
    Name,
    Email,
    Creation,
    /// Insertion order (SCIM's user list).
    Id,
}

impl Order {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Order::Name => &["lower(a.given_name)", "lower(a.family_name)"],
            Order::Email => &["lower(a.email)"],
            Order::Creation => &["a.created_ms"],
            Order::Id => &[],
        }
    }

    /// The `ORDER BY` list from key `from` on, then the id.
    pub fn order_by(self, from: usize, dir: &str) -> String {
        self.keys()[from..]
            .iter()
            .map(|k| format!("{k} {dir}"))
            .chain([format!("a.id {dir}")])
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One remembered position: the sort key values and the account id there.
struct Mark {
    keys: Vec<Value>,
    id: i64,
}

/// Every `STEP`-th position of one order, valid for one version of the accounts.
struct Directory {
    version: i64,
    marks: Vec<Mark>,
}

type Key = (String, Order, bool);

static DIRECTORIES: LazyLock<Mutex<HashMap<Key, Arc<Directory>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The ids of at most `limit` accounts from position `offset` of `order`, or `None` when the
/// page is shallow (or the database has no file to key the directory by): then OFFSET
/// paging is as fast. Call inside the page's transaction.
pub fn page_ids(
    conn: &Connection,
    order: Order,
    descending: bool,
    offset: u64,
    limit: u64,
) -> super::Result<Option<Vec<i64>>> {
    page_ids_with(conn, order, descending, offset, limit, STEP, DEEP)
}

fn page_ids_with(
    conn: &Connection,
    order: Order,
    descending: bool,
    offset: u64,
    limit: u64,
    step: u64,
    deep: u64,
) -> super::Result<Option<Vec<i64>>> {
    let path = match conn.identity() {
        Some(p) if offset >= deep => p,
        _ => return Ok(None),
    };
    let version: i64 = conn
        .prepare_cached("SELECT v FROM account_order_version")?
        .query_row([], |r| r.get(0))?;
    let key = (path, order, descending);
    let known = DIRECTORIES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .filter(|d| d.version == version)
        .cloned();
    let directory = match known {
        Some(d) => d,
        None => {
            let d = Arc::new(build(conn, order, descending, version, step)?);
            DIRECTORIES
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, d.clone());
            d
        }
    };
    let Some(mark) = directory.marks.get((offset / step) as usize) else {
        return Ok(Some(Vec::new()));
    };
    let skip = (offset % step) as usize;
    let mut ids = from_mark(conn, order, descending, mark, skip as u64 + limit)?;
    ids.drain(..skip.min(ids.len()));
    Ok(Some(ids))
}

/// Walks the whole order once, keeping every `step`-th position. The walk reads ids only,
/// which the sort index holds (reading the keys too would visit every account's row); the
/// keys of the kept positions are looked up afterwards.
fn build(
    conn: &Connection,
    order: Order,
    descending: bool,
    version: i64,
    step: u64,
) -> super::Result<Directory> {
    let dir = if descending { "DESC" } else { "ASC" };
    if conn.dialect() == Dialect::Postgres {
        return build_on_server(conn, order, dir, version, step);
    }
    let mut walk = conn.prepare(&format!(
        "SELECT a.id FROM accounts a ORDER BY {}",
        order.order_by(0, dir)
    ))?;
    let mut ids = Vec::new();
    let mut position = 0u64;
    walk.for_each([], |row| {
        if position.is_multiple_of(step) {
            ids.push(row.get::<i64>(0)?);
        }
        position += 1;
        Ok(())
    })?;
    let keys = order.keys();
    let mut marks = Vec::with_capacity(ids.len());
    if keys.is_empty() {
        marks.extend(ids.into_iter().map(|id| Mark {
            keys: Vec::new(),
            id,
        }));
    } else {
        let mut lookup = conn.prepare(&format!(
            "SELECT {} FROM accounts a WHERE a.id = ?1",
            keys.join(", ")
        ))?;
        for id in ids {
            let keys = lookup.query_row([id], |r| {
                (0..keys.len())
                    .map(|i| r.get::<Value>(i))
                    .collect::<super::Result<Vec<_>>>()
            })?;
            marks.push(Mark { keys, id });
        }
    }
    Ok(Directory { version, marks })
}

/// [`build`] on PostgreSQL: the server numbers the order's positions and sends only every
/// `step`-th with its keys, a thousand rows instead of every account's id (which the
/// client would decode one by one: seconds at a million, past a guest's deadline).
fn build_on_server(
    conn: &Connection,
    order: Order,
    dir: &str,
    version: i64,
    step: u64,
) -> super::Result<Directory> {
    let keys = order.keys();
    let inner: String = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!(", {k} AS k{i}"))
        .collect();
    let outer: String = (0..keys.len()).map(|i| format!(", w.k{i}")).collect();
    let sql = format!(
        "SELECT w.id{outer} FROM (
             SELECT a.id{inner}, row_number() OVER (ORDER BY {}) AS position
             FROM accounts a) w
         WHERE (w.position - 1) % {step} = 0 ORDER BY w.position",
        order.order_by(0, dir)
    );
    let mut marks = Vec::new();
    conn.prepare(&sql)?.for_each([], |row| {
        let keys = (1..=keys.len())
            .map(|i| row.get::<Value>(i))
            .collect::<super::Result<Vec<_>>>()?;
        marks.push(Mark {
            keys,
            id: row.get(0)?,
        });
        Ok(())
    })?;
    Ok(Directory { version, marks })
}

/// Up to `take` ids from `mark` onward (the mark's own account first). "Onward" in key order
/// is split into ranges each index can seek to: the same keys and an id at or past the
/// mark's, then for each key from the last to the first, the same earlier keys and a key
/// past the mark's.
fn from_mark(
    conn: &Connection,
    order: Order,
    descending: bool,
    mark: &Mark,
    take: u64,
) -> super::Result<Vec<i64>> {
    let (dir, at_or_past, past) = if descending {
        ("DESC", "<=", "<")
    } else {
        ("ASC", ">=", ">")
    };
    let keys = order.keys();
    let mut ids = Vec::new();
    for level in (0..=keys.len()).rev() {
        let wanted = take.saturating_sub(ids.len() as u64);
        if wanted == 0 {
            break;
        }
        let mut conditions: Vec<String> = keys[..level]
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{k} = ?{}", i + 1))
            .collect();
        conditions.push(if level == keys.len() {
            format!("a.id {at_or_past} ?{}", level + 1)
        } else {
            format!("{} {past} ?{}", keys[level], level + 1)
        });
        let mut args: Vec<Value> = mark.keys[..level].to_vec();
        args.push(if level == keys.len() {
            Value::Integer(mark.id)
        } else {
            mark.keys[level].clone()
        });
        args.push(Value::Integer(sql_int(wanted)));
        let sql = format!(
            "SELECT a.id FROM accounts a WHERE {} ORDER BY {} LIMIT ?{}",
            conditions.join(" AND "),
            order.order_by(level, dir),
            level + 2
        );
        let found = conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), |r| r.get::<i64>(0))?
            .collect::<super::Result<Vec<_>>>()?;
        ids.extend(found);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids OFFSET paging finds, for comparison.
    fn by_offset(conn: &Connection, order: Order, desc: bool, offset: u64, limit: u64) -> Vec<i64> {
        let dir = if desc { "DESC" } else { "ASC" };
        conn.prepare(&format!(
            "SELECT a.id FROM accounts a ORDER BY {} LIMIT ?1 OFFSET ?2",
            order.order_by(0, dir)
        ))
        .unwrap()
        .query_map([limit as i64, offset as i64], |r| r.get(0))
        .unwrap()
        .collect::<crate::store::sql::Result<_>>()
        .unwrap()
    }

    fn insert(conn: &Connection, i: usize) {
        // Few distinct names and emails, so ties on the keys are broken by the id.
        let given = ["Ada", "bruno", "ADA", "Chiara"][i % 4];
        let family = ["Rossi", "rossi", "Verdi"][i % 3];
        conn.execute(
            "INSERT INTO accounts(uuid, username, email, given_name, family_name, created_ms,
                                  last_modified_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            crate::store::sql::params![
                format!("u-{i}"),
                format!("user{i}"),
                format!("{}@example.org", i % 7),
                given,
                family,
                (i % 5) as i64
            ],
        )
        .unwrap();
    }

    fn check_all(conn: &Connection) {
        for order in [Order::Name, Order::Email, Order::Creation, Order::Id] {
            for desc in [false, true] {
                for offset in [0, 3, 7, 8, 9, 15, 16, 40, 77, 199, 200, 201, 250] {
                    for limit in [1, 5, 10, 30] {
                        let expected = by_offset(conn, order, desc, offset, limit);
                        let got = page_ids_with(conn, order, desc, offset, limit, 8, 0)
                            .unwrap()
                            .unwrap();
                        assert_eq!(got, expected, "{order:?} desc={desc} {offset}+{limit}");
                    }
                }
            }
        }
    }

    #[test]
    fn pages_from_the_directory_match_offset_paging_and_follow_changes() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::sqlite::open_for_tests(&dir.path().join("iam.db"));
        for i in 0..200 {
            insert(&conn, i);
        }
        check_all(&conn);
        // Creations, deletions and renames make the directory stale: it is rebuilt.
        for i in 200..230 {
            insert(&conn, i);
        }
        conn.execute("DELETE FROM accounts WHERE id % 9 = 0", [])
            .unwrap();
        conn.execute(
            "UPDATE accounts SET given_name = 'Zoe', email = 'z@example.org', created_ms = 9
             WHERE id % 11 = 0",
            [],
        )
        .unwrap();
        check_all(&conn);
        // A shallow page or an in-memory database: OFFSET paging does the work.
        assert!(
            page_ids(&conn, Order::Name, false, 10, 10)
                .unwrap()
                .is_none()
        );
    }
}
