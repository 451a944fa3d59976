//! W3C Trace Context (`traceparent`): a request that arrives inside a trace keeps that
//! trace's id as its request id, so the server's log lines and audit events of the request
//! join the caller's trace. A malformed header is ignored (the specification's rule), and
//! the request gets an id of its own, shaped like a trace id too.

/// The trace id (32 lowercase hex digits) of a valid `traceparent` value.
pub fn trace_id(header: &str) -> Option<&str> {
    // version "-" trace-id "-" parent-id "-" flags: 2, 32, 16 and 2 hex digits. Later
    // versions may append fields after another "-"; version 00 may not.
    let fields: Vec<&str> = header.get(..55)?.split('-').collect();
    let [version, trace, parent, flags] = fields[..] else {
        return None;
    };
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let rest = &header[55..];
    let valid = hex(version, 2)
        && version != "ff"
        && (rest.is_empty() || (version != "00" && rest.starts_with('-')))
        && hex(trace, 32)
        && trace.bytes().any(|b| b != b'0')
        && hex(parent, 16)
        && parent.bytes().any(|b| b != b'0')
        && hex(flags, 2);
    valid.then_some(trace)
}

/// An id for a request that came without a trace: 32 hex digits, as a trace id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::trace_id;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    #[test]
    fn a_valid_header_gives_its_trace_id() {
        let h = format!("00-{TRACE}-00f067aa0ba902b7-01");
        assert_eq!(trace_id(&h), Some(TRACE));
        // A later version may carry more fields.
        let h = format!("01-{TRACE}-00f067aa0ba902b7-00-extra");
        assert_eq!(trace_id(&h), Some(TRACE));
    }

    #[test]
    fn malformed_headers_are_ignored() {
        for h in [
            String::new(),
            "garbage".to_string(),
            format!("00-{TRACE}-00f067aa0ba902b7-01-extra"),
            format!("ff-{TRACE}-00f067aa0ba902b7-01"),
            format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)),
            format!("00-{TRACE}-0000000000000000-01"),
            format!("00-{}-00f067aa0ba902b7-01", TRACE.to_uppercase()),
            format!("00-{TRACE}-00f067aa0ba902b7-1"),
            format!("00_{TRACE}_00f067aa0ba902b7_01"),
            format!("0g-{TRACE}-00f067aa0ba902b7-01"),
            "00-ü€ü€ü€ü€ü€ü€ü€ü€ü€ü€ü€ü€ü€ü€ü€ü€ü€ü€-00f067aa0ba902b7-01".to_string(),
        ] {
            assert_eq!(trace_id(&h), None, "{h}");
        }
    }
}
