//! The default `find` handler component: the `find-handler` world bound to
//! `iam_guest_logic::find` and the host's store.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/find-handler@0.1.0",
        with: {
            "iam:plugin/types@0.1.0": iam_guest_logic::types,
            "iam:plugin/accounts@0.1.0": iam_guest_logic::bindings::iam::plugin::accounts,
            "iam:plugin/group-store@0.1.0": iam_guest_logic::bindings::iam::plugin::group_store,
        },
        generate_all,
    });
}

use bindings::exports::iam::plugin::find;
use iam_guest_logic::store::HostStore;
use iam_guest_logic::types::{Error, Finder, PageRequest};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Handler;

impl find::Guest for Handler {
    fn find(finder: Finder, page: PageRequest) -> Result<find::Found, Error> {
        let f = iam_guest_logic::find::find(&HostStore, &HostStore, &finder, &page)?;
        Ok(find::Found {
            single: f.single,
            info: f.info,
            users: f.users,
        })
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Handler with_types_in bindings);
