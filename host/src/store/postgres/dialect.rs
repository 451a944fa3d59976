//! SQLite's spelling of a query turned into PostgreSQL's, once per statement text. The
//! queries (`store/sql`) are written in SQLite's; only these differences are rewritten, and
//! only outside string literals and quoted names:
//!
//! - parameters: `?N` becomes `$N`, and a bare `?` the next number after the highest so far
//!   (SQLite's rule for anonymous parameters);
//! - `LIKE` becomes `ILIKE`: SQLite's `LIKE` ignores the case of ASCII letters, and so does
//!   PostgreSQL's `ILIKE` on the schema's `"C"`-collated text;
//! - `json_each(x)`, read as a table of `value`s, becomes `iam_json_texts(x::json)` (the
//!   schema's `json_array_elements_text` with a row estimate that keeps indexes in use);
//! - `instr(haystack, needle)` becomes `strpos(haystack, needle)`;
//! - `lower(?N)` becomes `lower($N COLLATE "C")`: a parameter has the database's default
//!   collation, under which `lower` would fold more than ASCII, unlike SQLite's and unlike
//!   `lower` of the schema's `"C"` columns.

/// The PostgreSQL text of a query written in SQLite's spelling.
pub fn rewrite(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    rewrite_into(sql, &mut 0, &mut out);
    out
}

/// Appends the rewriting of `sql` to `out`; `highest` is the highest parameter number so far.
fn rewrite_into(sql: &str, highest: &mut u32, out: &mut String) {
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        match c {
            '\'' | '"' => {
                let end = quoted_len(rest, c);
                out.push_str(&rest[..end]);
                rest = &rest[end..];
            }
            '?' => {
                let digits = rest[1..]
                    .find(|d: char| !d.is_ascii_digit())
                    .unwrap_or(rest.len() - 1);
                let n = if digits == 0 {
                    *highest + 1
                } else {
                    rest[1..1 + digits].parse().unwrap_or(u32::MAX)
                };
                *highest = (*highest).max(n);
                out.push('$');
                out.push_str(&n.to_string());
                rest = &rest[1 + digits..];
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let len = rest
                    .find(|d: char| !(d.is_ascii_alphanumeric() || d == '_'))
                    .unwrap_or(rest.len());
                let word = &rest[..len];
                let after = &rest[len..];
                if word.eq_ignore_ascii_case("LIKE") {
                    out.push_str("ILIKE");
                } else if word.eq_ignore_ascii_case("lower")
                    && let Some(param) = after.strip_prefix("(?")
                    && let Some(close) = param.find(')')
                    && param[..close].bytes().all(|b| b.is_ascii_digit())
                {
                    out.push_str("lower(");
                    rewrite_into(&after[1..close + 2], highest, out);
                    out.push_str(" COLLATE \"C\")");
                    rest = &after[close + 3..];
                    continue;
                } else if word.eq_ignore_ascii_case("instr") && after.starts_with('(') {
                    out.push_str("strpos");
                } else if word.eq_ignore_ascii_case("json_each") && after.starts_with('(') {
                    // The argument is one parameter or name: cast it where it ends.
                    let close = after.find(')').unwrap_or(after.len());
                    out.push_str("iam_json_texts(");
                    rewrite_into(&after[1..close], highest, out);
                    out.push_str("::json");
                    rest = &after[close..];
                    continue;
                } else {
                    out.push_str(word);
                }
                rest = after;
            }
            c => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
}

/// The length of the quoted literal or name at the start of `s` (a doubled quote inside
/// is part of it), to its end if unterminated.
fn quoted_len(s: &str, quote: char) -> usize {
    let mut chars = s.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            if chars.peek().is_some_and(|(_, n)| *n == quote) {
                chars.next();
            } else {
                return i + 1;
            }
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn parameters_are_numbered_as_sqlite_numbers_them() {
        assert_eq!(
            rewrite("SELECT a FROM t WHERE x = ?2 AND y = ?1 OR z = ?"),
            "SELECT a FROM t WHERE x = $2 AND y = $1 OR z = $3"
        );
        assert_eq!(rewrite("? + ? + ?10 + ?"), "$1 + $2 + $10 + $11");
    }

    #[test]
    fn literals_and_quoted_names_are_left_alone() {
        assert_eq!(
            rewrite("SELECT 'a ? LIKE instr(''?'')', \"LIKE\" FROM t WHERE n LIKE ?1"),
            "SELECT 'a ? LIKE instr(''?'')', \"LIKE\" FROM t WHERE n ILIKE $1"
        );
    }

    #[test]
    fn functions_and_operators_take_postgresql_names() {
        assert_eq!(
            rewrite("a.uuid IN (SELECT value FROM json_each(?1)) AND instr(x, ?2) > 0"),
            "a.uuid IN (SELECT value FROM iam_json_texts($1::json)) AND strpos(x, $2) > 0"
        );
        assert_eq!(
            rewrite("x ILIKE ?1 AND unlike = 1"),
            "x ILIKE $1 AND unlike = 1"
        );
        assert_eq!(
            rewrite("lower(a.n) = lower(?) AND lower(?3) <> lower(b)"),
            "lower(a.n) = lower($1 COLLATE \"C\") AND lower($3 COLLATE \"C\") <> lower(b)"
        );
        assert_eq!(rewrite("x LIKE ? ESCAPE '\\'"), "x ILIKE $1 ESCAPE '\\'");
    }
}
