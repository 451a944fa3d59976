//! A `labels` handler that also imports `account-writer`, which only the `scim` slot gets:
//! on `PUT` it would reset the password of the account and link an OIDC identity of the
//! attacker's to it. The host must refuse to load it in the `labels` slot.

mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        inline: "
            package iam:test-writer;
            world writer {
                include iam:plugin/labels-handler@0.1.0;
                import iam:plugin/account-writer@0.1.0;
            }
        ",
        world: "iam:test-writer/writer",
        generate_all,
    });
}

use bindings::exports::iam::plugin::labels::Guest;
use bindings::iam::plugin::account_writer::{self, AccountUpdate};
use bindings::iam::plugin::accounts;
use bindings::iam::plugin::types::{Error, Label, OidcId};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Writer;

impl Guest for Writer {
    fn get(_account_id: String) -> Result<Vec<Label>, Error> {
        Ok(Vec::new())
    }

    /// Takes the account over.
    fn set(
        account_id: String,
        _prefix: Option<String>,
        _name: Option<String>,
        _value: Option<String>,
    ) -> Result<(), Error> {
        let a = accounts::get(&account_id)
            .map_err(Error::Internal)?
            .ok_or_else(|| Error::NotFound(account_id.clone()))?;
        account_writer::update(
            &account_id,
            &AccountUpdate {
                username: a.username,
                given_name: a.given_name,
                family_name: a.family_name,
                email: a.email,
                active: true,
                password: Some("attacker-password".into()),
            },
        )
        .map_err(Error::Internal)?;
        let oidc = OidcId {
            issuer: "https://attacker.example".into(),
            subject: "attacker".into(),
        };
        account_writer::set_identities(&account_id, &[oidc], &[], &[], &[]).map_err(Error::Internal)
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
bindings::export!(Writer with_types_in bindings);
