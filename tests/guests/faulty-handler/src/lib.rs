//! An `attributes` handler that misbehaves on request, for the host's fault tests. It
//! behaves normally except for `PUT` with these attribute names:
//! - `trap`: panics (an `unreachable` trap);
//! - `loop`: spins forever (stopped by the host's deadline);
//! - `alloc`: allocates until memory runs out (stopped by the host's memory cap);
//! - `writetrap`: writes the attribute through the store, then panics (the host must roll
//!   the write back).

mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "iam:plugin/attributes-handler@0.1.0",
        generate_all,
    });
}

use bindings::exports::iam::plugin::attributes::Guest;
use bindings::iam::plugin::types::{Attribute, Error};
use bindings::iam::plugin::{account_touch, accounts, attribute_store};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Faulty;

fn require_account(id: &str) -> Result<(), Error> {
    match accounts::get(id).map_err(Error::Internal)? {
        Some(_) => Ok(()),
        None => Err(Error::NotFound(format!("Account not found for id '{id}'"))),
    }
}

impl Guest for Faulty {
    fn get(account_id: String) -> Result<Vec<Attribute>, Error> {
        require_account(&account_id)?;
        attribute_store::get_all(&account_id).map_err(Error::Internal)
    }

    fn set(account_id: String, name: Option<String>, value: Option<String>) -> Result<(), Error> {
        let attr = Attribute {
            name: name.unwrap_or_default(),
            value,
        };
        match attr.name.as_str() {
            "trap" => panic!("deliberate trap requested by the test"),
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(std::hint::black_box(vec![1u8; 1 << 20]));
                }
            }
            "writetrap" => {
                attribute_store::put(&account_id, &attr).map_err(Error::Internal)?;
                account_touch::touch(&account_id).map_err(Error::Internal)?;
                panic!("deliberate trap after writing");
            }
            _ => {
                require_account(&account_id)?;
                attribute_store::put(&account_id, &attr).map_err(Error::Internal)
            }
        }
    }

    fn remove(
        account_id: String,
        name: Option<String>,
        _value: Option<String>,
    ) -> Result<(), Error> {
        require_account(&account_id)?;
        attribute_store::remove(&account_id, name.as_deref().unwrap_or_default())
            .map(|_| ())
            .map_err(Error::Internal)
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Faulty with_types_in bindings);
