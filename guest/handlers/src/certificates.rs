//! The default `certificates` handler component: the `certificates-handler` world bound to
//! `iam_guest_logic::certificates` and the host's store.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/certificates-handler@0.1.0",
        with: {
            "iam:plugin/types@0.1.0": iam_guest_logic::types,
            "iam:plugin/accounts@0.1.0": iam_guest_logic::bindings::iam::plugin::accounts,
            "iam:plugin/account-touch@0.1.0": iam_guest_logic::bindings::iam::plugin::account_touch,
            "iam:plugin/certificate-store@0.1.0": iam_guest_logic::bindings::iam::plugin::certificate_store,
        },
        generate_all,
    });
}

use bindings::exports::iam::plugin::certificates;
use iam_guest_logic::store::HostStore;
use iam_guest_logic::types::{Error, ParsedProxy, Principal};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Handler;

impl certificates::Guest for Handler {
    fn set_proxy(
        caller: Principal,
        chain: Option<String>,
        parsed: Result<ParsedProxy, String>,
    ) -> Result<(), Error> {
        iam_guest_logic::certificates::set_proxy(
            &HostStore,
            &HostStore,
            &caller,
            chain.as_deref(),
            parsed.as_ref().map_err(String::as_str),
        )
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Handler with_types_in bindings);
