//! The default `group-metadata` handler component: the `group-metadata-handler` world bound
//! to `iam_guest_logic::group_metadata` and the host's store.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/group-metadata-handler@0.1.0",
        with: {
            "iam:plugin/types@0.1.0": iam_guest_logic::types,
            "iam:plugin/group-store@0.1.0": iam_guest_logic::bindings::iam::plugin::group_store,
            "iam:plugin/group-metadata-store@0.1.0": iam_guest_logic::bindings::iam::plugin::group_metadata_store,
        },
        generate_all,
    });
}

use bindings::exports::iam::plugin::group_metadata;
use iam_guest_logic::group_metadata as logic;
use iam_guest_logic::store::HostStore;
use iam_guest_logic::types::{Attribute, Error, Label};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Handler;

impl group_metadata::Guest for Handler {
    fn get_attributes(group_id: String) -> Result<Vec<Attribute>, Error> {
        logic::attributes(&HostStore, &HostStore, &group_id)
    }

    fn set_attribute(
        group_id: String,
        name: Option<String>,
        value: Option<String>,
    ) -> Result<(), Error> {
        logic::set_attribute(
            &HostStore,
            &HostStore,
            &group_id,
            name.as_deref(),
            value.as_deref(),
        )
    }

    fn remove_attribute(
        group_id: String,
        name: Option<String>,
        value: Option<String>,
    ) -> Result<(), Error> {
        logic::remove_attribute(
            &HostStore,
            &HostStore,
            &group_id,
            name.as_deref(),
            value.as_deref(),
        )
    }

    fn get_labels(group_id: String) -> Result<Vec<Label>, Error> {
        logic::labels(&HostStore, &HostStore, &group_id)
    }

    fn set_label(
        group_id: String,
        prefix: Option<String>,
        name: Option<String>,
        value: Option<String>,
    ) -> Result<(), Error> {
        logic::set_label(
            &HostStore,
            &HostStore,
            &group_id,
            prefix.as_deref(),
            name.as_deref(),
            value.as_deref(),
        )
    }

    fn remove_label(
        group_id: String,
        prefix: Option<String>,
        name: Option<String>,
        value: Option<String>,
    ) -> Result<(), Error> {
        logic::remove_label(
            &HostStore,
            &HostStore,
            &group_id,
            prefix.as_deref(),
            name.as_deref(),
            value.as_deref(),
        )
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Handler with_types_in bindings);
