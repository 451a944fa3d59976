//! OAuth clients: registration, management and ownership (`/iam/api/clients`), and the
//! caller's own clients (`/iam/account/me/clients`, reference §2.3).

use crate::attributes::{internal, require_account};
use crate::paging::{Window, utility_window};
use crate::store::{Accounts, ClientCreate, ClientStore};
use crate::types::{Client, Error, NewClient, PageInfo, PageRequest, Principal};
use crate::validation::{has_forbidden_whitespace, is_blank, java_len};

/// The token endpoint authentication methods a client may use.
pub const AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "none"];
/// The grants a client may be registered for.
pub const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "client_credentials",
    "password",
    "refresh_token",
    "implicit",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
];
/// Largest page of client lists.
pub const MAX_PAGE: i64 = 100;

fn invalid(msg: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("Invalid client: {msg}"))
}

pub fn client_not_found(id: &str) -> Error {
    Error::NotFound(format!("Client not found for id '{id}'"))
}

/// Paging of client lists: `count` ≥ 0 (default 10, at most 100), `startIndex` ≥ 1
/// (default 1); `count=0` asks for the count only (IAM answers 500 there).
pub fn window(page: &PageRequest) -> Result<Window, Error> {
    let mut msgs = Vec::new();
    if page.count.is_some_and(|c| c < 0) {
        msgs.push("must be >=0");
    }
    if page.start_index.is_some_and(|s| s < 1) {
        msgs.push("must be >=1");
    }
    if !msgs.is_empty() {
        return Err(Error::Invalid(format!(
            "Invalid pagination request: [{}]",
            msgs.join(", ")
        )));
    }
    Ok(utility_window(
        page.start_index,
        Some(page.count.unwrap_or(10)),
        MAX_PAGE,
    ))
}

/// Checks a registration and fills in IAM's defaults.
pub fn validate(new: &NewClient) -> Result<ClientCreate, Error> {
    if let Some(id) = &new.client_id
        && (is_blank(id) || has_forbidden_whitespace(id) || java_len(id) > 256)
    {
        return Err(invalid(
            "client_id must be 1 to 256 characters without whitespace",
        ));
    }
    if new
        .client_name
        .as_deref()
        .is_some_and(|n| java_len(n) > 256)
    {
        return Err(invalid("client_name cannot be longer than 256 chars"));
    }
    let method = new
        .token_endpoint_auth_method
        .clone()
        .unwrap_or_else(|| "client_secret_basic".into());
    if !AUTH_METHODS.contains(&method.as_str()) {
        return Err(invalid(format!(
            "unsupported token_endpoint_auth_method '{method}'"
        )));
    }
    let public = method == "none";
    if public && new.client_secret.is_some() {
        return Err(invalid(
            "a public client (token_endpoint_auth_method none) has no secret",
        ));
    }
    // RFC 7591: without grant_types a client is registered for the authorization code grant.
    let grant_types = new
        .grant_types
        .clone()
        .unwrap_or_else(|| vec!["authorization_code".into()]);
    if let Some(g) = grant_types
        .iter()
        .find(|g| !GRANT_TYPES.contains(&g.as_str()))
    {
        return Err(invalid(format!("unsupported grant type '{g}'")));
    }
    let mut scope: Vec<String> = Vec::new();
    for s in new.scope.as_deref().unwrap_or_default().split_whitespace() {
        if !scope.iter().any(|have| have == s) {
            scope.push(s.to_string());
        }
    }
    Ok(ClientCreate {
        client_id: new.client_id.clone(),
        secret: new.client_secret.clone(),
        generate_secret: !public && new.client_secret.is_none(),
        client_name: new.client_name.clone(),
        client_description: new.client_description.clone(),
        scope,
        grant_types,
        redirect_uris: new.redirect_uris.clone(),
        token_endpoint_auth_method: method,
        active: new.active.unwrap_or(true),
    })
}

pub fn create(
    clients: &impl ClientStore,
    new: &NewClient,
) -> Result<(Client, Option<String>), Error> {
    let row = validate(new)?;
    if let Some(id) = &row.client_id
        && clients.get(id).map_err(internal)?.is_some()
    {
        return Err(Error::Conflict(format!(
            "A client with client_id '{id}' already exists"
        )));
    }
    clients.create(row).map_err(internal)
}

pub fn get(clients: &impl ClientStore, id: &str) -> Result<Client, Error> {
    clients
        .get(id)
        .map_err(internal)?
        .ok_or_else(|| client_not_found(id))
}

pub fn list(
    clients: &impl ClientStore,
    page: &PageRequest,
) -> Result<(PageInfo, Vec<Client>), Error> {
    let w = window(page)?;
    let total = clients.count().map_err(internal)?;
    let list = if w.count_only {
        Vec::new()
    } else {
        clients.list_clients(w.offset, w.limit).map_err(internal)?
    };
    Ok((w.info(total), list))
}

pub fn delete(clients: &impl ClientStore, id: &str) -> Result<(), Error> {
    if clients.delete(id).map_err(internal)? {
        Ok(())
    } else {
        Err(client_not_found(id))
    }
}

fn client_and_account(
    accounts: &impl Accounts,
    clients: &impl ClientStore,
    client: &str,
    account: &str,
) -> Result<(), Error> {
    get(clients, client)?;
    require_account(accounts, account)
}

pub fn add_owner(
    accounts: &impl Accounts,
    clients: &impl ClientStore,
    client: &str,
    account: &str,
) -> Result<(), Error> {
    client_and_account(accounts, clients, client, account)?;
    clients.add_owner(client, account).map_err(internal)?;
    Ok(())
}

pub fn remove_owner(
    accounts: &impl Accounts,
    clients: &impl ClientStore,
    client: &str,
    account: &str,
) -> Result<(), Error> {
    client_and_account(accounts, clients, client, account)?;
    clients.remove_owner(client, account).map_err(internal)?;
    Ok(())
}

/// The clients the caller owns.
pub fn own(
    clients: &impl ClientStore,
    caller: &Principal,
    page: &PageRequest,
) -> Result<(PageInfo, Vec<Client>), Error> {
    let w = window(page)?;
    let Some(account) = caller.account_id.as_deref() else {
        return Err(Error::Invalid(
            "No user linked to the current OAuth token".into(),
        ));
    };
    let total = clients.count_owned(account).map_err(internal)?;
    let list = if w.count_only {
        Vec::new()
    } else {
        clients
            .owned(account, w.offset, w.limit)
            .map_err(internal)?
    };
    Ok((w.info(total), list))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::FakeStore;

    fn new_client(id: Option<&str>) -> NewClient {
        NewClient {
            client_id: id.map(Into::into),
            client_secret: None,
            client_name: Some("app".into()),
            client_description: None,
            scope: Some("openid openid profile".into()),
            grant_types: Some(vec!["client_credentials".into()]),
            redirect_uris: vec![],
            token_endpoint_auth_method: None,
            active: None,
        }
    }

    #[test]
    fn defaults_and_rules() {
        let row = validate(&new_client(Some("c"))).unwrap();
        assert_eq!(row.scope, ["openid", "profile"]);
        assert_eq!(row.token_endpoint_auth_method, "client_secret_basic");
        assert!(row.generate_secret && row.active);
        let mut public = new_client(None);
        public.token_endpoint_auth_method = Some("none".into());
        assert!(!validate(&public).unwrap().generate_secret);
        public.client_secret = Some("s".into());
        assert!(matches!(validate(&public), Err(Error::Invalid(_))));
        let mut odd = new_client(None);
        odd.token_endpoint_auth_method = Some("private_key_jwt".into());
        assert!(matches!(validate(&odd), Err(Error::Invalid(_))));
        let mut odd = new_client(None);
        odd.grant_types = Some(vec!["magic".into()]);
        assert!(matches!(validate(&odd), Err(Error::Invalid(_))));
        let mut default_grants = new_client(None);
        default_grants.grant_types = None;
        assert_eq!(
            validate(&default_grants).unwrap().grant_types,
            ["authorization_code"]
        );
        assert!(matches!(
            validate(&new_client(Some("a b"))),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn pagination_rules() {
        let p = |s, c| PageRequest {
            start_index: s,
            count: c,
        };
        assert_eq!(window(&p(None, None)).unwrap().limit, 10);
        assert_eq!(window(&p(None, Some(500))).unwrap().limit, 100);
        assert!(window(&p(None, Some(0))).unwrap().count_only);
        assert_eq!(
            window(&p(Some(0), Some(-1))),
            Err(Error::Invalid(
                "Invalid pagination request: [must be >=0, must be >=1]".into()
            ))
        );
    }

    #[test]
    fn ownership() {
        let s = FakeStore::default();
        let alice = s.add_account("alice");
        let (c, secret) = create(&s, &new_client(Some("c1"))).unwrap();
        assert!(secret.is_some());
        assert_eq!(
            create(&s, &new_client(Some("c1"))).unwrap_err(),
            Error::Conflict("A client with client_id 'c1' already exists".into())
        );
        add_owner(&s, &s, &c.client_id, &alice).unwrap();
        add_owner(&s, &s, &c.client_id, &alice).unwrap();
        let me = Principal {
            account_id: Some(alice.clone()),
            username: None,
            client_id: None,
            authorities: vec![],
            scopes: vec![],
        };
        let page = PageRequest {
            start_index: None,
            count: None,
        };
        let (info, mine) = own(&s, &me, &page).unwrap();
        assert_eq!((info.total_results, mine.len()), (1, 1));
        assert_eq!(
            add_owner(&s, &s, "nope", &alice).unwrap_err(),
            client_not_found("nope")
        );
        remove_owner(&s, &s, &c.client_id, &alice).unwrap();
        assert_eq!(own(&s, &me, &page).unwrap().0.total_results, 0);
        delete(&s, "c1").unwrap();
        assert_eq!(delete(&s, "c1").unwrap_err(), client_not_found("c1"));
    }
}
