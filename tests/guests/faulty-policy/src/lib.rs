//! A policy for the host's fault and plugin-loading tests. It allows every operation to
//! any caller, except:
//! - deleting an attribute, which it always denies;
//! - reading the attributes of the account ids `trap` (panics) and `loop` (spins forever);
//! - reading the labels of an account, which it denies when its setting `deny_labels` is
//!   `true`, logging the setting through the host's `log` import either way.

mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "iam:plugin/policy@0.1.0",
        generate_all,
    });
}

use bindings::exports::iam::plugin::authorizer::{Decision, Guest};
use bindings::iam::plugin::log::{Level, write};
use bindings::iam::plugin::types::{Operation, Principal};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Permissive;

impl Guest for Permissive {
    fn authorize(_caller: Principal, op: Operation) -> Decision {
        match op {
            Operation::DeleteAccountAttribute(_) => {
                Decision::Deny("test policy denies deletes".into())
            }
            Operation::GetAccountAttributes(id) if id == "trap" => panic!("deliberate policy trap"),
            Operation::GetAccountAttributes(id) if id == "loop" => loop {
                std::hint::black_box(());
            },
            Operation::GetAccountLabels(_) => {
                let setting = bindings::iam::plugin::config::get("deny_labels");
                write(Level::Info, &format!("deny_labels is {setting:?}"));
                if setting.as_deref() == Some("true") {
                    Decision::Deny("labels are closed by the site's setting".into())
                } else {
                    Decision::Allow
                }
            }
            _ => Decision::Allow,
        }
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Permissive with_types_in bindings);
