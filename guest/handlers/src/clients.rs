//! The default `clients` handler component: the `clients-handler` world bound to
//! `iam_guest_logic::clients` and the host's store.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "iam:plugin/clients-handler@0.1.0",
        with: {
            "iam:plugin/types@0.1.0": iam_guest_logic::types,
            "iam:plugin/accounts@0.1.0": iam_guest_logic::bindings::iam::plugin::accounts,
            "iam:plugin/client-store@0.1.0": iam_guest_logic::bindings::iam::plugin::client_store,
        },
        generate_all,
    });
}

use bindings::exports::iam::plugin::clients;
use iam_guest_logic::store::HostStore;
use iam_guest_logic::types::{Client, Error, NewClient, PageRequest, Principal};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Handler;

impl clients::Guest for Handler {
    fn create(new: NewClient) -> Result<clients::Registration, Error> {
        let (client, secret) = iam_guest_logic::clients::create(&HostStore, &HostStore, &new)?;
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

    fn set_active(client_id: String, active: bool, caller: Principal) -> Result<(), Error> {
        iam_guest_logic::clients::set_active(&HostStore, &client_id, active, &caller)
    }

    fn rotate_secret(client_id: String) -> Result<clients::Registration, Error> {
        let (client, secret) = iam_guest_logic::clients::rotate_secret(&HostStore, &client_id)?;
        Ok(clients::Registration {
            client,
            secret: Some(secret),
        })
    }
}

fn client_page(
    (info, clients): (iam_guest_logic::types::PageInfo, Vec<Client>),
) -> clients::ClientPage {
    clients::ClientPage { info, clients }
}

// Natively (tests, clippy) there is no component to export into.
#[cfg(target_arch = "wasm32")]
bindings::export!(Handler with_types_in bindings);
