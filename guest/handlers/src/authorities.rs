//! The default `authorities` handler component: the `authorities-handler` world bound to
//! `iam_guest_logic::authorities` and the host's store.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/authorities-handler@0.1.0",
        with: {
            "iam:plugin/types@0.1.0": iam_guest_logic::types,
            "iam:plugin/accounts@0.1.0": iam_guest_logic::bindings::iam::plugin::accounts,
            "iam:plugin/authority-store@0.1.0": iam_guest_logic::bindings::iam::plugin::authority_store,
            "iam:plugin/authority-writer@0.1.0": iam_guest_logic::bindings::iam::plugin::authority_writer,
        },
        generate_all,
    });
}

use bindings::exports::iam::plugin::authorities;
use iam_guest_logic::store::HostStore;
use iam_guest_logic::types::{Error, Principal};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Handler;

impl authorities::Guest for Handler {
    fn get(account_id: String) -> Result<Vec<String>, Error> {
        iam_guest_logic::authorities::get(&HostStore, &HostStore, &account_id)
    }

    fn add(account_id: String, authority: Option<String>) -> Result<(), Error> {
        iam_guest_logic::authorities::add(&HostStore, &HostStore, &account_id, authority.as_deref())
    }

    fn remove(account_id: String, authority: Option<String>) -> Result<(), Error> {
        iam_guest_logic::authorities::remove(
            &HostStore,
            &HostStore,
            &account_id,
            authority.as_deref(),
        )
    }

    fn get_own(caller: Principal) -> Result<Vec<String>, Error> {
        iam_guest_logic::authorities::get_own(&HostStore, &caller)
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Handler with_types_in bindings);
