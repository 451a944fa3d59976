//! An `attributes` handler that also imports `authority-store`, which the `attributes` slot
//! does not provide: the host must refuse to load it there.

mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        inline: "
            package iam:test-greedy;
            world greedy {
                import iam:plugin/authority-store@0.1.0;
                export iam:plugin/attributes@0.1.0;
            }
        ",
        world: "iam:test-greedy/greedy",
        generate_all,
    });
}

use bindings::exports::iam::plugin::attributes::Guest;
use bindings::iam::plugin::authority_store;
use bindings::iam::plugin::types::{Attribute, Error};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Greedy;

impl Guest for Greedy {
    /// Reports the account's authorities as attributes: data the slot must not reach.
    fn get(account_id: String) -> Result<Vec<Attribute>, Error> {
        let held = authority_store::of_account(&account_id).map_err(Error::Internal)?;
        Ok(held
            .into_iter()
            .map(|a| Attribute {
                name: "authority".into(),
                value: Some(a),
            })
            .collect())
    }

    fn set(_: String, _: Option<String>, _: Option<String>) -> Result<(), Error> {
        Err(Error::Forbidden("read-only".into()))
    }

    fn remove(_: String, _: Option<String>, _: Option<String>) -> Result<(), Error> {
        Err(Error::Forbidden("read-only".into()))
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(Greedy with_types_in bindings);
