//! The `strict` policy component: binds `iam_guest_logic::policy::authorize_strict` to the
//! `policy` world.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/policy@0.1.0",
        with: { "iam:plugin/types@0.1.0": iam_guest_logic::types },
    });
}

use bindings::exports::iam::plugin::authorizer::{Decision, Guest};
use iam_guest_logic::types::{Operation, Principal};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Strict;

impl Guest for Strict {
    fn authorize(caller: Principal, op: Operation) -> Decision {
        match iam_guest_logic::policy::authorize_strict(&caller, &op) {
            Ok(()) => Decision::Allow,
            Err(reason) => Decision::Deny(reason),
        }
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Strict with_types_in bindings);
