//! The default `managers` handler component: the `managers-handler` world bound to
//! `iam_guest_logic::managers` and the host's store.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/managers-handler@0.1.0",
        with: {
            "iam:plugin/types@0.1.0": iam_guest_logic::types,
            "iam:plugin/accounts@0.1.0": iam_guest_logic::bindings::iam::plugin::accounts,
            "iam:plugin/group-store@0.1.0": iam_guest_logic::bindings::iam::plugin::group_store,
            "iam:plugin/authority-store@0.1.0": iam_guest_logic::bindings::iam::plugin::authority_store,
            "iam:plugin/manager-store@0.1.0": iam_guest_logic::bindings::iam::plugin::manager_store,
        },
        generate_all,
    });
}

use bindings::exports::iam::plugin::managers;
use iam_guest_logic::store::HostStore;
use iam_guest_logic::types::{Error, User};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Handler;

impl managers::Guest for Handler {
    fn managed_groups(account_id: String) -> Result<managers::Management, Error> {
        let (account, managed, unmanaged) = iam_guest_logic::managers::managed_groups(
            &HostStore,
            &HostStore,
            &HostStore,
            &account_id,
        )?;
        Ok(managers::Management {
            account,
            managed,
            unmanaged,
        })
    }

    fn add(account_id: String, group_id: String) -> Result<(), Error> {
        iam_guest_logic::managers::add(&HostStore, &HostStore, &HostStore, &account_id, &group_id)
    }

    fn remove(account_id: String, group_id: String) -> Result<(), Error> {
        iam_guest_logic::managers::remove(
            &HostStore,
            &HostStore,
            &HostStore,
            &account_id,
            &group_id,
        )
    }

    fn group_managers(group_id: String) -> Result<Vec<User>, Error> {
        iam_guest_logic::managers::group_managers(&HostStore, &HostStore, &group_id)
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Handler with_types_in bindings);
