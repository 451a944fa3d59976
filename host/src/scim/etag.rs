//! Resource versions (RFC 7644 §3.14): a weak entity tag computed from the resource's
//! representation, so that any change a client could see changes it (including those that
//! leave `meta.lastModified` alone, as INDIGO IAM's authority changes do).

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The weak entity tag of a rendered resource (`meta.version` left out of the hash).
pub fn version_of(resource: &Value) -> String {
    if resource["meta"].get("version").is_none() {
        return tag(resource);
    }
    let mut hashed = resource.clone();
    if let Some(meta) = hashed.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("version");
    }
    tag(&hashed)
}

fn tag(resource: &Value) -> String {
    // Hashed as it is serialized: no intermediate string per resource of a page.
    let mut hasher = Sha256::new();
    serde_json::to_writer(&mut hasher, resource).expect("a JSON value serializes");
    let digest = hasher.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

/// Sets `meta.version` and returns the tag.
pub fn stamp(resource: &mut Value) -> String {
    let version = version_of(resource);
    if let Some(meta) = resource.get_mut("meta").and_then(Value::as_object_mut) {
        meta.insert("version".into(), Value::String(version.clone()));
    }
    version
}

/// Whether an `If-Match` / `If-None-Match` header value names `version`: `*`, or a
/// comma-separated list of tags compared weakly (RFC 9110 §8.8.3.2: `W/` is ignored).
pub fn matches(header: &str, version: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let ours = opaque(version);
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || (!t.is_empty() && opaque(t) == ours))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_version_follows_the_content_not_itself() {
        let mut a = json!({"id": "1", "userName": "alice", "meta": {"created": "x"}});
        let v = stamp(&mut a);
        assert!(v.starts_with("W/\"") && v.ends_with('"'));
        assert_eq!(a["meta"]["version"], v);
        assert_eq!(version_of(&a), v, "stamping does not change the version");
        let mut b = json!({"id": "1", "userName": "bob", "meta": {"created": "x"}});
        assert_ne!(stamp(&mut b), v);
    }

    #[test]
    fn preconditions_compare_weakly_and_accept_lists_and_star() {
        let v = "W/\"abc\"";
        assert!(matches("W/\"abc\"", v));
        assert!(matches("\"abc\"", v));
        assert!(matches("\"x\", W/\"abc\"", v));
        assert!(matches("*", v));
        assert!(!matches("W/\"abd\"", v));
        assert!(!matches("", v));
    }
}
