//! The default `search` handler component: the `search-handler` world bound to
//! `iam_guest_logic::search` and the host's store.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/search-handler@0.1.0",
        with: {
            "iam:plugin/types@0.1.0": iam_guest_logic::types,
            "iam:plugin/accounts@0.1.0": iam_guest_logic::bindings::iam::plugin::accounts,
            "iam:plugin/group-store@0.1.0": iam_guest_logic::bindings::iam::plugin::group_store,
        },
        generate_all,
    });
}

use bindings::exports::iam::plugin::search;
use iam_guest_logic::store::HostStore;
use iam_guest_logic::types::{Error, SearchRequest};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Handler;

impl search::Guest for Handler {
    fn accounts(request: SearchRequest) -> Result<search::AccountResults, Error> {
        let (info, users) = iam_guest_logic::search::accounts(&HostStore, &request)?;
        Ok(search::AccountResults { info, users })
    }

    fn groups(request: SearchRequest) -> Result<search::GroupResults, Error> {
        let (info, groups) = iam_guest_logic::search::groups(&HostStore, &request)?;
        Ok(search::GroupResults { info, groups })
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Handler with_types_in bindings);
