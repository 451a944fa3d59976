//! OAuth clients: registration, management and ownership (`/iam/api/clients`), and the
//! caller's own clients (`/iam/account/me/clients`, docs/api.md §11).
//!
//! IAM validates a registration with method-level bean validation: every violation is reported
//! as `saveNewClient.client<path>: <message>`, all of them joined by `, ` in one 400 (IAM's order
//! is a hash order; ours is the order of the fields). Values its JSON binding cannot read
//! (unknown grant types or authentication methods) are framework 400s, before any of that.

use crate::attributes::internal;
use crate::paging::{Window, utility_window};
use crate::store::{Accounts, ClientCreate, ClientStore};
use crate::types::{Client, Error, NewClient, PageInfo, PageRequest, Principal};
use crate::validation::{is_blank, java_len};

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

/// IAM's bean-validation limits of a registration.
const MAX_NAME: usize = 256;
const MIN_NAME: usize = 4;
const MAX_DESCRIPTION: usize = 1024;
const MAX_SCOPES: usize = 512;
const MAX_SCOPE: usize = 2048;
/// The width of the client id column: longer ids are a database error (500) in IAM.
const MAX_CLIENT_ID: usize = 256;

/// A violation of the registration, as IAM's method validation names it.
fn violation(path: &str, msg: &str) -> String {
    format!("saveNewClient.client{path}: {msg}")
}

pub fn client_not_found(id: &str) -> Error {
    Error::NotFound(format!("Client not found for clientId: {id}"))
}

/// The owner endpoints check the account first (a parameter constraint of IAM's service, so a
/// 400 named after the method), then the client.
fn invalid_account(method: &str) -> Error {
    Error::Invalid(format!("{method}.accountId: Invalid IAM account uuid"))
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

/// What IAM's JSON binding refuses before validation: values outside its enums. A method it
/// knows but we cannot verify (`client_secret_jwt`) is refused here too.
fn binding_errors(new: &NewClient) -> Result<(), Error> {
    if let Some(m) = new.token_endpoint_auth_method.as_deref()
        && !AUTH_METHODS.contains(&m)
        && m != "private_key_jwt"
    {
        return Err(Error::Invalid(if m == "client_secret_jwt" {
            format!("Invalid client: unsupported token_endpoint_auth_method '{m}'")
        } else {
            format!("JSON parse error: '{m}' is not a valid token_endpoint_auth_method")
        }));
    }
    if let Some(g) = new
        .grant_types
        .iter()
        .flatten()
        .find(|g| !GRANT_TYPES.contains(&g.as_str()))
    {
        return Err(Error::Invalid(format!(
            "JSON parse error: {g} is not a supported grant type"
        )));
    }
    Ok(())
}

/// True when Java's URI parser reads `uri` as a reference without a scheme: no `:` before the
/// first `/`, `?` or `#`. Strings it refuses outright (spaces, `<`, ...) are left alone: IAM
/// answers them with the parser's own message.
fn lacks_scheme(uri: &str) -> bool {
    let parseable = !uri
        .chars()
        .any(|c| c.is_ascii_control() || " \"<>\\^`{|}[]".contains(c));
    let head = uri.split(['/', '?', '#']).next().unwrap_or_default();
    parseable && !head.contains(':')
}

/// The registration's violations, field by field and then the rules that look at the whole
/// client. A missing `client_name` passes, so that nameless registrations keep working (IAM:
/// `clientName: should not be blank`).
fn violations(new: &NewClient, scope: &[String], id_taken: bool) -> Vec<String> {
    let mut v = Vec::new();
    if id_taken {
        v.push(violation(".clientId", "Client id not available"));
    }
    // IAM fails in the database (500) here; ours is a 400 in the same form as the rest.
    if new
        .client_id
        .as_deref()
        .is_some_and(|id| java_len(id) > MAX_CLIENT_ID)
    {
        v.push(violation(".clientId", "size must be between 0 and 256"));
    }
    if let Some(name) = new.client_name.as_deref() {
        if is_blank(name) {
            v.push(violation(".clientName", "should not be blank"));
        }
        if !(MIN_NAME..=MAX_NAME).contains(&java_len(name)) {
            v.push(violation(
                ".clientName",
                "Invalid length: must be between 4 and 256 characters",
            ));
        }
    }
    if new
        .client_description
        .as_deref()
        .is_some_and(|d| java_len(d) > MAX_DESCRIPTION)
    {
        // The typo is IAM's.
        v.push(violation(
            ".clientDescription",
            "Invalid ength: must be at most 1024 characters",
        ));
    }
    let lifetimes = [
        (
            ".accessTokenValiditySeconds",
            new.access_token_validity_seconds,
        ),
        (
            ".refreshTokenValiditySeconds",
            new.refresh_token_validity_seconds,
        ),
    ];
    for (path, secs) in lifetimes {
        if secs.is_some_and(|s| s < 0) {
            v.push(violation(path, "must be greater than or equal to 0"));
        }
    }
    // A set in IAM: a repeated URI is one element.
    let mut uris: Vec<&str> = Vec::new();
    for u in &new.redirect_uris {
        if !uris.contains(&u.as_str()) {
            uris.push(u);
        }
    }
    for _ in uris.iter().filter(|u| lacks_scheme(u)) {
        v.push(violation(
            ".redirectUris[].<iterable element>",
            "Invalid redirect URI: no scheme set",
        ));
    }
    if scope.len() > MAX_SCOPES {
        v.push(violation(".scope", "size must be between 0 and 512"));
    }
    for _ in scope.iter().filter(|s| java_len(s) > MAX_SCOPE) {
        v.push(violation(
            ".scope[].<iterable element>",
            "string size must be between 1 and 2048",
        ));
    }
    // Without `grant_types` IAM defaults to the code grant and skips this rule.
    if new.grant_types.as_ref().is_some_and(|g| {
        g.iter()
            .any(|g| g == "authorization_code" || g == "implicit")
    }) && new.redirect_uris.is_empty()
    {
        v.push(violation(
            "",
            "Authorization code requires a valid redirect uri",
        ));
    }
    if uris.iter().any(|u| u.contains('#')) {
        v.push(violation("", "Invalid redirect URI: contains a fragment"));
    }
    // We take no JWK set, so such a client can never be valid.
    if new.token_endpoint_auth_method.as_deref() == Some("private_key_jwt") {
        v.push(violation(
            "",
            "private_key_jwt requires a jwks uri or a jwk value",
        ));
    }
    v
}

/// Checks a registration and fills in IAM's defaults; `id_taken` says the requested
/// `client_id` is already registered.
pub fn validate(new: &NewClient, id_taken: bool) -> Result<ClientCreate, Error> {
    binding_errors(new)?;
    let mut scope: Vec<String> = Vec::new();
    for s in new.scope.as_deref().unwrap_or_default().split_whitespace() {
        if !scope.iter().any(|have| have == s) {
            scope.push(s.to_string());
        }
    }
    let v = violations(new, &scope, id_taken);
    if !v.is_empty() {
        return Err(Error::Invalid(v.join(", ")));
    }
    let method = new
        .token_endpoint_auth_method
        .clone()
        .unwrap_or_else(|| "client_secret_basic".into());
    // IAM keeps no use for a public client's secret: accepted and dropped.
    let public = method == "none";
    let secret = new.client_secret.clone().filter(|_| !public);
    // RFC 7591: without grant_types a client is registered for the authorization code grant.
    let grant_types = new
        .grant_types
        .clone()
        .unwrap_or_else(|| vec!["authorization_code".into()]);
    Ok(ClientCreate {
        // A blank id counts as none: IAM would store it, and a second one would be a 500.
        client_id: new.client_id.clone().filter(|id| !is_blank(id)),
        generate_secret: !public && secret.is_none(),
        secret,
        client_name: new.client_name.clone(),
        client_description: new.client_description.clone(),
        scope,
        grant_types,
        redirect_uris: new.redirect_uris.clone(),
        token_endpoint_auth_method: method,
        active: new.active.unwrap_or(true),
        access_token_validity: new.access_token_validity_seconds.map(|s| s as u64),
        refresh_token_validity: new.refresh_token_validity_seconds.map(|s| s as u64),
    })
}

/// Registers a client. A requested `client_id` must be free, and must not be an account's
/// UUID either: a client named like an account would read as that account wherever only
/// the id is shown (token subjects, logs).
pub fn create(
    accounts: &impl Accounts,
    clients: &impl ClientStore,
    new: &NewClient,
) -> Result<(Client, Option<String>), Error> {
    let taken = match new.client_id.as_deref() {
        Some(id) if !is_blank(id) => {
            clients.get(id).map_err(internal)?.is_some()
                || accounts.get(id).map_err(internal)?.is_some()
        }
        _ => false,
    };
    let row = validate(new, taken)?;
    let created = clients.create(&row).map_err(internal)?;
    Ok((created.client, created.secret))
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

/// Enables or disables a client (`PATCH .../enable`, `.../disable`), noting who did it.
/// Setting the state it already has still notes the change, as INDIGO IAM does.
pub fn set_active(
    clients: &impl ClientStore,
    id: &str,
    active: bool,
    caller: &Principal,
) -> Result<(), Error> {
    if clients
        .set_active(id, active, caller.account_id.as_deref())
        .map_err(internal)?
    {
        Ok(())
    } else {
        Err(client_not_found(id))
    }
}

/// A new secret for a confidential client, returned with the client this once. A public
/// client authenticates without one, so it gets none (INDIGO IAM would store one, which
/// the client could never use).
pub fn rotate_secret(clients: &impl ClientStore, id: &str) -> Result<(Client, String), Error> {
    let client = get(clients, id)?;
    if client.token_endpoint_auth_method == "none" {
        return Err(Error::Invalid(format!(
            "Client {id} is a public client: it has no secret"
        )));
    }
    let secret = clients
        .new_secret(id)
        .map_err(internal)?
        .ok_or_else(|| client_not_found(id))?;
    Ok((client, secret))
}

fn client_and_account(
    accounts: &impl Accounts,
    clients: &impl ClientStore,
    method: &str,
    client: &str,
    account: &str,
) -> Result<(), Error> {
    if accounts.get(account).map_err(internal)?.is_none() {
        return Err(invalid_account(method));
    }
    get(clients, client).map(drop)
}

pub fn add_owner(
    accounts: &impl Accounts,
    clients: &impl ClientStore,
    client: &str,
    account: &str,
) -> Result<(), Error> {
    client_and_account(accounts, clients, "assignClientOwner", client, account)?;
    clients.add_owner(client, account).map_err(internal)?;
    Ok(())
}

pub fn remove_owner(
    accounts: &impl Accounts,
    clients: &impl ClientStore,
    client: &str,
    account: &str,
) -> Result<(), Error> {
    client_and_account(accounts, clients, "removeClientOwner", client, account)?;
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
            client_name: Some("my app".into()),
            client_description: None,
            scope: Some("openid openid profile".into()),
            grant_types: Some(vec!["client_credentials".into()]),
            redirect_uris: vec![],
            token_endpoint_auth_method: None,
            active: None,
            access_token_validity_seconds: None,
            refresh_token_validity_seconds: None,
        }
    }

    fn invalid(r: Result<ClientCreate, Error>) -> String {
        match r {
            Err(Error::Invalid(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_and_rules() {
        let row = validate(&new_client(Some("c")), false).unwrap();
        assert_eq!(row.scope, ["openid", "profile"]);
        assert_eq!(row.token_endpoint_auth_method, "client_secret_basic");
        assert!(row.generate_secret && row.active);
        // IAM takes any id; a blank one is generated.
        assert_eq!(
            validate(&new_client(Some("a b")), false).unwrap().client_id,
            Some("a b".into())
        );
        assert_eq!(
            validate(&new_client(Some(" ")), false).unwrap().client_id,
            None
        );
        let mut public = new_client(None);
        public.token_endpoint_auth_method = Some("none".into());
        assert!(!validate(&public, false).unwrap().generate_secret);
        public.client_secret = Some("s".into());
        let row = validate(&public, false).unwrap();
        assert!(row.secret.is_none() && !row.generate_secret);
        let mut default_grants = new_client(None);
        default_grants.grant_types = None;
        assert_eq!(
            validate(&default_grants, false).unwrap().grant_types,
            ["authorization_code"]
        );
    }

    #[test]
    fn binding_errors_come_first() {
        let mut odd = new_client(None);
        odd.grant_types = Some(vec!["magic".into()]);
        odd.client_name = Some("".into());
        assert_eq!(
            invalid(validate(&odd, true)),
            "JSON parse error: magic is not a supported grant type"
        );
        let mut odd = new_client(None);
        odd.token_endpoint_auth_method = Some("magic".into());
        assert_eq!(
            invalid(validate(&odd, false)),
            "JSON parse error: 'magic' is not a valid token_endpoint_auth_method"
        );
        odd.token_endpoint_auth_method = Some("client_secret_jwt".into());
        assert_eq!(
            invalid(validate(&odd, false)),
            "Invalid client: unsupported token_endpoint_auth_method 'client_secret_jwt'"
        );
    }

    #[test]
    fn violations_as_iam_names_them() {
        let one = |f: &dyn Fn(&mut NewClient)| {
            let mut c = new_client(Some("c"));
            f(&mut c);
            invalid(validate(&c, false))
        };
        assert_eq!(
            invalid(validate(&new_client(Some("c")), true)),
            "saveNewClient.client.clientId: Client id not available"
        );
        assert_eq!(
            one(&|c| c.client_id = Some("i".repeat(257))),
            "saveNewClient.client.clientId: size must be between 0 and 256"
        );
        assert_eq!(
            one(&|c| c.client_name = Some("abc".into())),
            "saveNewClient.client.clientName: Invalid length: must be between 4 and 256 characters"
        );
        assert_eq!(
            one(&|c| c.client_name = Some("    ".into())),
            "saveNewClient.client.clientName: should not be blank"
        );
        assert_eq!(
            one(&|c| c.client_description = Some("d".repeat(1025))),
            "saveNewClient.client.clientDescription: Invalid ength: must be at most 1024 characters"
        );
        assert_eq!(
            one(&|c| c.redirect_uris = vec!["cb".into(), "cb".into()]),
            "saveNewClient.client.redirectUris[].<iterable element>: \
             Invalid redirect URI: no scheme set"
        );
        assert_eq!(
            one(&|c| c.scope = Some("s".repeat(2049))),
            "saveNewClient.client.scope[].<iterable element>: \
             string size must be between 1 and 2048"
        );
        assert_eq!(
            one(&|c| c.scope = Some((0..513).map(|i| format!("s{i} ")).collect())),
            "saveNewClient.client.scope: size must be between 0 and 512"
        );
        assert_eq!(
            one(&|c| c.grant_types = Some(vec!["implicit".into()])),
            "saveNewClient.client: Authorization code requires a valid redirect uri"
        );
        assert_eq!(
            one(&|c| c.redirect_uris = vec!["https://app.example.org/cb#x".into()]),
            "saveNewClient.client: Invalid redirect URI: contains a fragment"
        );
        assert_eq!(
            one(&|c| c.token_endpoint_auth_method = Some("private_key_jwt".into())),
            "saveNewClient.client: private_key_jwt requires a jwks uri or a jwk value"
        );
        // Every violation at once, joined.
        assert_eq!(
            one(&|c| c.client_name = Some("".into())),
            "saveNewClient.client.clientName: should not be blank, \
             saveNewClient.client.clientName: Invalid length: must be between 4 and 256 characters"
        );
        // Scheme-less but unparseable URIs are not judged; a missing name passes.
        let mut ok = new_client(None);
        ok.client_name = None;
        ok.redirect_uris = vec![
            "not a uri".into(),
            "edu.kit.data.oidc-agent:/redirect".into(),
        ];
        assert!(validate(&ok, false).is_ok());
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
        let (c, secret) = create(&s, &s, &new_client(Some("c1"))).unwrap();
        assert!(secret.is_some());
        let taken = Error::Invalid("saveNewClient.client.clientId: Client id not available".into());
        assert_eq!(create(&s, &s, &new_client(Some("c1"))).unwrap_err(), taken);
        // An account's UUID is never a client id.
        assert_eq!(
            create(&s, &s, &new_client(Some(&alice))).unwrap_err(),
            taken
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
            Error::NotFound("Client not found for clientId: nope".into())
        );
        // The account is checked first, and is a 400.
        assert_eq!(
            add_owner(&s, &s, "nope", "nobody").unwrap_err(),
            Error::Invalid("assignClientOwner.accountId: Invalid IAM account uuid".into())
        );
        assert_eq!(
            remove_owner(&s, &s, &c.client_id, "nobody").unwrap_err(),
            Error::Invalid("removeClientOwner.accountId: Invalid IAM account uuid".into())
        );
        remove_owner(&s, &s, &c.client_id, &alice).unwrap();
        assert_eq!(own(&s, &me, &page).unwrap().0.total_results, 0);
        delete(&s, "c1").unwrap();
        assert_eq!(delete(&s, "c1").unwrap_err(), client_not_found("c1"));
    }

    #[test]
    fn enabling_disabling_and_new_secrets() {
        let s = FakeStore::default();
        let admin = Principal {
            account_id: Some("admin-uuid".into()),
            username: None,
            client_id: None,
            authorities: vec![],
            scopes: vec![],
        };
        create(&s, &s, &new_client(Some("c1"))).unwrap();
        set_active(&s, "c1", false, &admin).unwrap();
        let c = get(&s, "c1").unwrap();
        assert!(!c.active);
        assert_eq!(c.status_changed_by.as_deref(), Some("admin-uuid"));
        set_active(&s, "c1", true, &admin).unwrap();
        assert!(get(&s, "c1").unwrap().active);
        assert_eq!(
            set_active(&s, "nope", true, &admin).unwrap_err(),
            client_not_found("nope")
        );

        let (c, secret) = rotate_secret(&s, "c1").unwrap();
        assert_eq!(
            (c.client_id.as_str(), secret.as_str()),
            ("c1", "rotated-c1")
        );
        assert_eq!(
            rotate_secret(&s, "nope").unwrap_err(),
            client_not_found("nope")
        );
        let mut public = new_client(Some("pub"));
        public.token_endpoint_auth_method = Some("none".into());
        public.grant_types = Some(vec!["authorization_code".into()]);
        public.redirect_uris = vec!["https://app.example.org/cb".into()];
        create(&s, &s, &public).unwrap();
        assert_eq!(
            rotate_secret(&s, "pub").unwrap_err(),
            Error::Invalid("Client pub is a public client: it has no secret".into())
        );
    }
}
