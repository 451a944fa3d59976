//! The default `lifecycle` handler component: the `lifecycle-handler` world bound to
//! `iam_guest_logic::lifecycle` and the host's store.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/lifecycle-handler@0.1.0",
        with: {
            "iam:plugin/types@0.1.0": iam_guest_logic::types,
            "iam:plugin/accounts@0.1.0": iam_guest_logic::bindings::iam::plugin::accounts,
            "iam:plugin/account-touch@0.1.0": iam_guest_logic::bindings::iam::plugin::account_touch,
            "iam:plugin/account-lifecycle@0.1.0": iam_guest_logic::bindings::iam::plugin::account_lifecycle,
            "iam:plugin/label-store@0.1.0": iam_guest_logic::bindings::iam::plugin::label_store,
        },
        generate_all,
    });
}

use bindings::exports::iam::plugin::lifecycle;
use iam_guest_logic::store::HostStore;
use iam_guest_logic::types::{Error, LifecycleSettings};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Handler;

impl lifecycle::Guest for Handler {
    fn set_end_time(
        account_id: String,
        end_time: Option<u64>,
        settings: LifecycleSettings,
    ) -> Result<(), Error> {
        iam_guest_logic::lifecycle::set_end_time(
            &HostStore,
            &HostStore,
            &account_id,
            end_time,
            &settings,
        )
    }

    fn expire_accounts(
        now: u64,
        settings: LifecycleSettings,
    ) -> Result<lifecycle::LifecycleReport, Error> {
        let r =
            iam_guest_logic::lifecycle::expire_accounts(&HostStore, &HostStore, now, &settings)?;
        Ok(lifecycle::LifecycleReport {
            pending_suspension: r.pending_suspension,
            suspended: r.suspended,
            removed: r.removed,
        })
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Handler with_types_in bindings);
