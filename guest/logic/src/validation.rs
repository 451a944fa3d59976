//! Field validation shared by the handlers, with INDIGO IAM's exact messages.

/// The message IAM gives for its "no whitespace" rule. Despite its wording the rule refuses
/// any space, tab, carriage return or line feed.
pub const NO_WHITESPACE: &str = "The string must not contain any new line or carriage return";

/// True when `value` breaks the "no whitespace" rule (null and empty values pass).
pub fn has_forbidden_whitespace(value: &str) -> bool {
    value.chars().any(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// Number of characters as Java counts them (UTF-16 code units), for the length limits.
pub fn java_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// True for a blank string as Java's `isBlank` sees it (empty or only whitespace).
pub fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// `^[a-zA-Z][a-zA-Z0-9\-_.]*$`: the name rule of attributes, labels and groups.
pub fn is_simple_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A practical e-mail check: one `@`, a non-empty local part without whitespace, and a
/// dotted domain of letters, digits and hyphens.
pub fn is_valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

/// `^((?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)+[A-Za-z]{2,6}$`: a DNS-like label prefix.
pub fn is_dns_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    let Some((tld, labels)) = parts.split_last() else {
        return false;
    };
    !labels.is_empty()
        && (2..=6).contains(&tld.len())
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_rule_refuses_space_tab_cr_lf_only() {
        for bad in ["a b", "a\tb", "a\rb", "a\nb", " "] {
            assert!(has_forbidden_whitespace(bad), "{bad:?}");
        }
        for good in ["", "ab", "a-b_c.d", "ü\u{00a0}x"] {
            assert!(!has_forbidden_whitespace(good), "{good:?}");
        }
    }

    #[test]
    fn simple_names() {
        for good in ["a", "affiliation", "a1-b_c.d", "Z"] {
            assert!(is_simple_name(good), "{good}");
        }
        for bad in ["", "1a", "-a", ".a", "a b", "a/b", "a\n", "é"] {
            assert!(!is_simple_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn emails() {
        for good in ["test@iam.test", "a.b+c@x-y.example.org"] {
            assert!(is_valid_email(good), "{good}");
        }
        for bad in [
            "", "x", "@a.b", "a@", "a@b", "a b@c.d", "a@b..c", "a@-b.c", ".a@b.c",
        ] {
            assert!(!is_valid_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn dns_like_prefixes() {
        for good in ["example.org", "a.b.io", "x-y.example.museum", "iam.test"] {
            assert!(is_dns_like(good), "{good}");
        }
        for bad in [
            "aword",
            "-starts-with-dash.com",
            "ends-with-dash-.com",
            "contains_underscore.org",
            "contains/slashes.org",
            "a.b\n",
            "a.b\r",
            "example.o",
            "example.toolong",
            "a..org",
            ".org",
            "example.org.",
            "example.c0m",
            "",
        ] {
            assert!(!is_dns_like(bad), "{bad:?}");
        }
        assert!(is_dns_like(&format!("{}.org", "a".repeat(63))));
        assert!(!is_dns_like(&format!("{}.org", "a".repeat(64))));
    }

    #[test]
    fn java_length_counts_utf16_units() {
        assert_eq!(java_len("abc"), 3);
        assert_eq!(java_len("😀"), 2);
    }
}
