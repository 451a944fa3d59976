//! The default `labels` handler component: the `labels-handler` world bound to
//! `iam_guest_logic::labels` and the host's store.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/labels-handler@0.1.0",
        with: {
            "iam:plugin/types@0.1.0": iam_guest_logic::types,
            "iam:plugin/accounts@0.1.0": iam_guest_logic::bindings::iam::plugin::accounts,
            "iam:plugin/account-touch@0.1.0": iam_guest_logic::bindings::iam::plugin::account_touch,
            "iam:plugin/label-store@0.1.0": iam_guest_logic::bindings::iam::plugin::label_store,
        },
        generate_all,
    });
}

use bindings::exports::iam::plugin::labels;
use iam_guest_logic::store::HostStore;
use iam_guest_logic::types::{Error, Label};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Handler;

impl labels::Guest for Handler {
    fn get(account_id: String) -> Result<Vec<Label>, Error> {
        iam_guest_logic::labels::list(&HostStore, &HostStore, &account_id)
    }

    fn set(
        account_id: String,
        prefix: Option<String>,
        name: Option<String>,
        value: Option<String>,
    ) -> Result<(), Error> {
        iam_guest_logic::labels::set(
            &HostStore,
            &HostStore,
            &account_id,
            prefix.as_deref(),
            name.as_deref(),
            value.as_deref(),
        )
    }

    fn remove(
        account_id: String,
        prefix: Option<String>,
        name: Option<String>,
        value: Option<String>,
    ) -> Result<(), Error> {
        iam_guest_logic::labels::remove(
            &HostStore,
            &HostStore,
            &account_id,
            prefix.as_deref(),
            name.as_deref(),
            value.as_deref(),
        )
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Handler with_types_in bindings);
