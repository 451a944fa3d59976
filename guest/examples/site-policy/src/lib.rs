//! An example site policy in Rust: INDIGO IAM's `roles` rules, plus one site rule. The
//! managers of the site's steward group (its UUID is the setting `steward_group`) may also
//! read, set and remove any account's labels and attributes: a site delegates that chore
//! without making anyone an administrator. Every access the extra rule grants is logged.
//!
//! Build it with `cargo build --release --target wasm32-wasip2 -p iam-example-site-policy`
//! and load it with `[plugins.policy] component = ".../iam_example_site_policy.wasm"` and
//! `[plugins.policy.settings] steward_group = "<group uuid>"` (see docs/plugins.md).

mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "iam:plugin/policy@0.1.0",
        with: { "iam:plugin/types@0.1.0": iam_guest_logic::types },
        generate_all,
    });
}

use bindings::exports::iam::plugin::authorizer::{Decision, Guest};
use bindings::iam::plugin::{config, log};
use iam_guest_logic::types::{Operation, Principal};

/// Whether `op` is one the stewards may perform.
fn steward_operation(op: &Operation) -> bool {
    matches!(
        op,
        Operation::GetAccountAttributes(_)
            | Operation::SetAccountAttribute(_)
            | Operation::DeleteAccountAttribute(_)
            | Operation::GetAccountLabels(_)
            | Operation::SetAccountLabel(_)
            | Operation::DeleteAccountLabel(_)
    )
}

/// Whether the caller manages the configured steward group.
fn is_steward(caller: &Principal) -> bool {
    let Some(group) = config::get("steward_group") else {
        return false;
    };
    let role = format!("ROLE_GM:{group}");
    caller.authorities.contains(&role)
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct SitePolicy;

impl Guest for SitePolicy {
    fn authorize(caller: Principal, op: Operation) -> Decision {
        match iam_guest_logic::policy::authorize_roles(&caller, &op) {
            Ok(()) => Decision::Allow,
            Err(_) if steward_operation(&op) && is_steward(&caller) => {
                let who = caller.username.as_deref().unwrap_or("?");
                log::write(log::Level::Info, &format!("steward {who} allowed {op:?}"));
                Decision::Allow
            }
            Err(reason) => Decision::Deny(reason),
        }
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(SitePolicy with_types_in bindings);
