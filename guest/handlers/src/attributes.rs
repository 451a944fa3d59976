//! The default `attributes` handler component: the `attributes-handler` world bound to
//! `iam_guest_logic::attributes` and the host's store.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/attributes-handler@0.1.0",
        with: {
            "iam:plugin/types@0.1.0": iam_guest_logic::types,
            "iam:plugin/accounts@0.1.0": iam_guest_logic::bindings::iam::plugin::accounts,
            "iam:plugin/account-touch@0.1.0": iam_guest_logic::bindings::iam::plugin::account_touch,
            "iam:plugin/attribute-store@0.1.0": iam_guest_logic::bindings::iam::plugin::attribute_store,
        },
        generate_all,
    });
}

use bindings::exports::iam::plugin::attributes;
use iam_guest_logic::store::HostStore;
use iam_guest_logic::types::{Attribute, Error};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Handler;

impl attributes::Guest for Handler {
    fn get(account_id: String) -> Result<Vec<Attribute>, Error> {
        iam_guest_logic::attributes::list(&HostStore, &HostStore, &account_id)
    }

    fn set(account_id: String, name: Option<String>, value: Option<String>) -> Result<(), Error> {
        iam_guest_logic::attributes::set(
            &HostStore,
            &HostStore,
            &account_id,
            name.as_deref(),
            value.as_deref(),
        )
    }

    fn remove(
        account_id: String,
        name: Option<String>,
        value: Option<String>,
    ) -> Result<(), Error> {
        iam_guest_logic::attributes::remove(
            &HostStore,
            &HostStore,
            &account_id,
            name.as_deref(),
            value.as_deref(),
        )
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Handler with_types_in bindings);
