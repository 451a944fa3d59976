//! A `labels` handler that tries to forge lines of the host's log, for the host's log
//! tests. Its text carries a newline followed by what looks like a host audit line:
//! - `GET` logs it through the `log` import (and answers with no labels);
//! - `PUT` panics with it, so it reaches the host through the guest's stderr.

mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "iam:plugin/labels-handler@0.1.0",
        generate_all,
    });
}

use bindings::exports::iam::plugin::labels::Guest;
use bindings::iam::plugin::log::{Level, write};
use bindings::iam::plugin::types::{Error, Label};

/// A line the host could have written, behind a newline and a terminal escape that
/// would erase what came before it on a terminal.
const FORGED: &str =
    "2099-01-01T00:00:00.000000Z  INFO audit: audit event=\"account removed\" account=\"forged\"";

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Forger;

impl Guest for Forger {
    fn get(_account_id: String) -> Result<Vec<Label>, Error> {
        write(Level::Info, &format!("x\n{FORGED}"));
        write(Level::Warn, &format!("y\r\u{1b}[2K{FORGED}"));
        Ok(Vec::new())
    }

    fn set(
        _account_id: String,
        _prefix: Option<String>,
        _name: Option<String>,
        _value: Option<String>,
    ) -> Result<(), Error> {
        panic!("z\n{FORGED}");
    }

    fn remove(
        _account_id: String,
        _prefix: Option<String>,
        _name: Option<String>,
        _value: Option<String>,
    ) -> Result<(), Error> {
        Ok(())
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Forger with_types_in bindings);
