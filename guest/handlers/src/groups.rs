//! The default `groups` handler component: the `groups-handler` world bound to
//! `iam_guest_logic::groups` and the host's store.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/groups-handler@0.1.0",
        with: {
            "iam:plugin/types@0.1.0": iam_guest_logic::types,
            "iam:plugin/accounts@0.1.0": iam_guest_logic::bindings::iam::plugin::accounts,
            "iam:plugin/account-touch@0.1.0": iam_guest_logic::bindings::iam::plugin::account_touch,
            "iam:plugin/group-writer@0.1.0": iam_guest_logic::bindings::iam::plugin::group_writer,
            "iam:plugin/group-store@0.1.0": iam_guest_logic::bindings::iam::plugin::group_store,
            "iam:plugin/membership-store@0.1.0": iam_guest_logic::bindings::iam::plugin::membership_store,
        },
        generate_all,
    });
}

use bindings::exports::iam::plugin::groups;
use iam_guest_logic::store::HostStore;
use iam_guest_logic::types::{Error, Group};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Handler;

impl groups::Guest for Handler {
    fn create(
        name: Option<String>,
        description: Option<String>,
        parent_id: Option<String>,
    ) -> Result<Group, Error> {
        iam_guest_logic::groups::create(
            &HostStore,
            name.as_deref(),
            description.as_deref(),
            parent_id.as_deref(),
        )
    }

    fn update_description(id: String, description: Option<String>) -> Result<Group, Error> {
        iam_guest_logic::groups::update_description(&HostStore, &id, description.as_deref())
    }

    fn add_member(account_id: String, group_id: String) -> Result<(), Error> {
        iam_guest_logic::groups::add_member(
            &HostStore,
            &HostStore,
            &HostStore,
            &account_id,
            &group_id,
        )
    }

    fn remove_member(account_id: String, group_id: String) -> Result<(), Error> {
        iam_guest_logic::groups::remove_member(
            &HostStore,
            &HostStore,
            &HostStore,
            &account_id,
            &group_id,
        )
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Handler with_types_in bindings);
