//! The default handler component: exports every handler group, each a thin binding of
//! the logic in `iam_guest_logic` to the store the host provides.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/handlers@0.1.0",
        with: { "iam:plugin/types@0.1.0": iam_guest_logic::types },
        generate_all,
    });
}

mod store;

use bindings::exports::iam::plugin::{
    attributes, authorities, certificates, clients, find, groups, labels, lifecycle, managers,
    scim, search,
};
use iam_guest_logic::types::{
    Attribute, Client, Error, Finder, Group, Label, LifecycleSettings, MemberPatch, NewClient,
    NewGroup, NewUser, PageRequest, ParsedProxy, Principal, RegistrationSettings, SearchRequest,
    User,
};
use store::HostStore;

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Handlers;

impl attributes::Guest for Handlers {
    fn get(account_id: String) -> Result<Vec<Attribute>, Error> {
        iam_guest_logic::attributes::list(&HostStore, &HostStore, &account_id)
    }

    fn set(account_id: String, name: Option<String>, value: Option<String>) -> Result<(), Error> {
        iam_guest_logic::attributes::set(
            &HostStore,
            &HostStore,
            &account_id,
            name.as_deref(),
            value.as_deref(),
        )
    }

    fn remove(
        account_id: String,
        name: Option<String>,
        value: Option<String>,
    ) -> Result<(), Error> {
        iam_guest_logic::attributes::remove(
            &HostStore,
            &HostStore,
            &account_id,
            name.as_deref(),
            value.as_deref(),
        )
    }
}

impl authorities::Guest for Handlers {
    fn get(account_id: String) -> Result<Vec<String>, Error> {
        iam_guest_logic::authorities::get(&HostStore, &HostStore, &account_id)
    }

    fn add(account_id: String, authority: Option<String>) -> Result<(), Error> {
        iam_guest_logic::authorities::add(&HostStore, &HostStore, &account_id, authority.as_deref())
    }

    fn remove(account_id: String, authority: Option<String>) -> Result<(), Error> {
        iam_guest_logic::authorities::remove(
            &HostStore,
            &HostStore,
            &account_id,
            authority.as_deref(),
        )
    }

    fn get_own(caller: Principal) -> Result<Vec<String>, Error> {
        iam_guest_logic::authorities::get_own(&HostStore, &caller)
    }
}

impl labels::Guest for Handlers {
    fn get(account_id: String) -> Result<Vec<Label>, Error> {
        iam_guest_logic::labels::list(&HostStore, &HostStore, &account_id)
    }

    fn set(
        account_id: String,
        prefix: Option<String>,
        name: Option<String>,
        value: Option<String>,
    ) -> Result<(), Error> {
        iam_guest_logic::labels::set(
            &HostStore,
            &HostStore,
            &account_id,
            prefix.as_deref(),
            name.as_deref(),
            value.as_deref(),
        )
    }

    fn remove(
        account_id: String,
        prefix: Option<String>,
        name: Option<String>,
        value: Option<String>,
    ) -> Result<(), Error> {
        iam_guest_logic::labels::remove(
            &HostStore,
            &HostStore,
            &account_id,
            prefix.as_deref(),
            name.as_deref(),
            value.as_deref(),
        )
    }
}

impl groups::Guest for Handlers {
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

impl managers::Guest for Handlers {
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

impl lifecycle::Guest for Handlers {
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

fn client_page(
    (info, clients): (iam_guest_logic::types::PageInfo, Vec<Client>),
) -> clients::ClientPage {
    clients::ClientPage { info, clients }
}

impl clients::Guest for Handlers {
    fn create(new: NewClient) -> Result<clients::Registration, Error> {
        let (client, secret) = iam_guest_logic::clients::create(&HostStore, &new)?;
        Ok(clients::Registration { client, secret })
    }

    fn get(client_id: String) -> Result<Client, Error> {
        iam_guest_logic::clients::get(&HostStore, &client_id)
    }

    fn list_all(page: PageRequest) -> Result<clients::ClientPage, Error> {
        iam_guest_logic::clients::list(&HostStore, &page).map(client_page)
    }

    fn delete(client_id: String) -> Result<(), Error> {
        iam_guest_logic::clients::delete(&HostStore, &client_id)
    }

    fn add_owner(client_id: String, account_id: String) -> Result<(), Error> {
        iam_guest_logic::clients::add_owner(&HostStore, &HostStore, &client_id, &account_id)
    }

    fn remove_owner(client_id: String, account_id: String) -> Result<(), Error> {
        iam_guest_logic::clients::remove_owner(&HostStore, &HostStore, &client_id, &account_id)
    }

    fn owned_by_caller(caller: Principal, page: PageRequest) -> Result<clients::ClientPage, Error> {
        iam_guest_logic::clients::own(&HostStore, &caller, &page).map(client_page)
    }
}

impl certificates::Guest for Handlers {
    fn set_proxy(
        caller: Principal,
        chain: Option<String>,
        parsed: Result<ParsedProxy, String>,
    ) -> Result<(), Error> {
        iam_guest_logic::certificates::set_proxy(
            &HostStore,
            &HostStore,
            &caller,
            chain.as_deref(),
            parsed.as_ref().map_err(String::as_str),
        )
    }
}

impl find::Guest for Handlers {
    fn find(finder: Finder, page: PageRequest) -> Result<find::Found, Error> {
        let f = iam_guest_logic::find::find(&HostStore, &HostStore, &finder, &page)?;
        Ok(find::Found {
            single: f.single,
            info: f.info,
            users: f.users,
        })
    }
}

impl search::Guest for Handlers {
    fn accounts(request: SearchRequest) -> Result<search::AccountResults, Error> {
        let (info, users) = iam_guest_logic::search::accounts(&HostStore, &request)?;
        Ok(search::AccountResults { info, users })
    }

    fn groups(request: SearchRequest) -> Result<search::GroupResults, Error> {
        let (info, groups) = iam_guest_logic::search::groups(&HostStore, &request)?;
        Ok(search::GroupResults { info, groups })
    }
}

impl scim::Guest for Handlers {
    fn create_user(new: NewUser, registration: RegistrationSettings) -> Result<User, Error> {
        iam_guest_logic::scim::create_user(&HostStore, &HostStore, &new, &registration)
    }

    fn get_user(id: String) -> Result<User, Error> {
        iam_guest_logic::scim::get_user(&HostStore, &id)
    }

    fn list_users(page: PageRequest) -> Result<scim::UserPage, Error> {
        let (info, users) = iam_guest_logic::scim::list_users(&HostStore, &page)?;
        Ok(scim::UserPage { info, users })
    }

    fn replace_user(id: String, new: NewUser) -> Result<User, Error> {
        iam_guest_logic::scim::replace_user(&HostStore, &id, &new)
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

    fn list_groups(page: PageRequest) -> Result<scim::GroupPage, Error> {
        let (info, groups) = iam_guest_logic::scim::list_groups(&HostStore, &page)?;
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
bindings::export!(Handlers with_types_in bindings);
