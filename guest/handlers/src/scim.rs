//! The default `scim` handler component: the `scim-handler` world bound to
//! `iam_guest_logic::scim` and the host's store.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/scim-handler@0.1.0",
        with: {
            "iam:plugin/types@0.1.0": iam_guest_logic::types,
            "iam:plugin/accounts@0.1.0": iam_guest_logic::bindings::iam::plugin::accounts,
            "iam:plugin/account-touch@0.1.0": iam_guest_logic::bindings::iam::plugin::account_touch,
            "iam:plugin/account-writer@0.1.0": iam_guest_logic::bindings::iam::plugin::account_writer,
            "iam:plugin/account-lifecycle@0.1.0": iam_guest_logic::bindings::iam::plugin::account_lifecycle,
            "iam:plugin/group-writer@0.1.0": iam_guest_logic::bindings::iam::plugin::group_writer,
            "iam:plugin/group-store@0.1.0": iam_guest_logic::bindings::iam::plugin::group_store,
            "iam:plugin/membership-store@0.1.0": iam_guest_logic::bindings::iam::plugin::membership_store,
        },
        generate_all,
    });
}

use bindings::exports::iam::plugin::scim;
use iam_guest_logic::store::HostStore;
use iam_guest_logic::types::{
    Error, Group, ListQuery, MemberPatch, NewGroup, NewUser, PageRequest, Principal,
    RegistrationSettings, User, UserChange,
};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Handler;

impl scim::Guest for Handler {
    fn create_user(new: NewUser, registration: RegistrationSettings) -> Result<User, Error> {
        iam_guest_logic::scim::create_user(&HostStore, &HostStore, &new, &registration)
    }

    fn get_user(id: String) -> Result<User, Error> {
        iam_guest_logic::scim::get_user(&HostStore, &id)
    }

    fn list_users(page: PageRequest, query: ListQuery) -> Result<scim::UserPage, Error> {
        let (info, users) = iam_guest_logic::scim::list_users(&HostStore, &page, &query)?;
        Ok(scim::UserPage { info, users })
    }

    fn replace_user(id: String, new: NewUser) -> Result<User, Error> {
        iam_guest_logic::scim::replace_user(&HostStore, &id, &new)
    }

    fn patch_user(id: String, changes: Vec<UserChange>) -> Result<User, Error> {
        iam_guest_logic::scim::patch_user(&HostStore, &id, &changes)
    }

    fn delete_user(id: String) -> Result<(), Error> {
        iam_guest_logic::scim::delete_user(&HostStore, &id)
    }

    fn create_group(new: NewGroup) -> Result<Group, Error> {
        iam_guest_logic::scim::create_group(&HostStore, &new)
    }

    fn get_group(id: String) -> Result<Group, Error> {
        iam_guest_logic::scim::get_group(&HostStore, &id)
    }

    fn list_groups(page: PageRequest, query: ListQuery) -> Result<scim::GroupPage, Error> {
        let (info, groups) = iam_guest_logic::scim::list_groups(&HostStore, &page, &query)?;
        Ok(scim::GroupPage { info, groups })
    }

    fn replace_group(id: String, new: NewGroup) -> Result<Group, Error> {
        iam_guest_logic::scim::replace_group(&HostStore, &id, &new)
    }

    fn patch_members(id: String, ops: Vec<MemberPatch>) -> Result<(), Error> {
        iam_guest_logic::scim::patch_members(&HostStore, &HostStore, &id, &ops)
    }

    fn delete_group(id: String) -> Result<(), Error> {
        iam_guest_logic::scim::delete_group(&HostStore, &id)
    }

    fn list_members(group_id: String, page: PageRequest) -> Result<scim::UserPage, Error> {
        let (info, users) =
            iam_guest_logic::scim::list_members(&HostStore, &HostStore, &group_id, &page)?;
        Ok(scim::UserPage { info, users })
    }

    fn list_subgroups(group_id: String, page: PageRequest) -> Result<scim::GroupRefPage, Error> {
        let (info, refs) = iam_guest_logic::scim::list_subgroups(&HostStore, &group_id, &page)?;
        Ok(scim::GroupRefPage { info, refs })
    }

    fn get_me(caller: Principal) -> Result<User, Error> {
        iam_guest_logic::scim::get_me(&HostStore, &caller)
    }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Handler with_types_in bindings);
