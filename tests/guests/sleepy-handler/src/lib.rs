//! A `labels` handler that sleeps, for the host's deadline tests. A sleep waits inside the
//! host (WASI `poll`), where the epoch deadline cannot stop it; the host must end the wait
//! at the call's deadline. It behaves normally except for `PUT` with these label names:
//! - `sleep`: sleeps 30 seconds, then writes the label;
//! - `nap`: sleeps 50 milliseconds (well within any deadline), then writes the label.

use std::time::Duration;

mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "iam:plugin/labels-handler@0.1.0",
        generate_all,
    });
}

use bindings::exports::iam::plugin::labels::Guest;
use bindings::iam::plugin::types::{Error, Label};
use bindings::iam::plugin::{accounts, label_store};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Sleepy;

fn require_account(id: &str) -> Result<(), Error> {
    match accounts::get(id).map_err(Error::Internal)? {
        Some(_) => Ok(()),
        None => Err(Error::NotFound(format!("Account not found for id '{id}'"))),
    }
}

impl Guest for Sleepy {
    fn get(account_id: String) -> Result<Vec<Label>, Error> {
        require_account(&account_id)?;
        label_store::get_all(&account_id).map_err(Error::Internal)
    }

    fn set(
        account_id: String,
        prefix: Option<String>,
        name: Option<String>,
        value: Option<String>,
    ) -> Result<(), Error> {
        require_account(&account_id)?;
        let name = name.unwrap_or_default();
        match name.as_str() {
            "sleep" => std::thread::sleep(Duration::from_secs(30)),
            "nap" => std::thread::sleep(Duration::from_millis(50)),
            _ => {}
        }
        label_store::put(
            &account_id,
            &Label {
                prefix,
                name,
                value,
            },
        )
        .map_err(Error::Internal)
    }

    fn remove(
        account_id: String,
        prefix: Option<String>,
        name: Option<String>,
        _value: Option<String>,
    ) -> Result<(), Error> {
        require_account(&account_id)?;
        label_store::remove(&account_id, prefix.as_deref(), &name.unwrap_or_default())
            .map(|_| ())
            .map_err(Error::Internal)
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Sleepy with_types_in bindings);
