//! OAuth clients and their owners.

use super::StoreResult;
use crate::contract::types::Client;

/// A client row to insert; the secret is already hashed.
pub struct NewClientRow<'a> {
    pub client_id: &'a str,
    pub secret_hash: Option<&'a str>,
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub scope: &'a [String],
    pub grant_types: &'a [String],
    pub redirect_uris: &'a [String],
    pub auth_method: &'a str,
    pub active: bool,
    pub access_token_validity: Option<u64>,
    pub refresh_token_validity: Option<u64>,
}

/// What the token endpoint needs to authenticate a client.
pub struct Credentials {
    pub client: Client,
    /// Absent for a public client.
    pub secret_hash: Option<String>,
}

/// OAuth clients and their owners.
pub trait ClientStore {
    fn get(&self, client_id: &str) -> StoreResult<Option<Client>>;
    fn insert(&self, c: &NewClientRow) -> StoreResult<Client>;
    fn delete(&self, client_id: &str) -> StoreResult<bool>;
    fn count(&self) -> StoreResult<u64>;
    fn list(&self, offset: u64, limit: u64) -> StoreResult<Vec<Client>>;
    fn add_owner(&self, client_id: &str, account_uuid: &str) -> StoreResult<bool>;
    fn remove_owner(&self, client_id: &str, account_uuid: &str) -> StoreResult<bool>;
    fn count_owned(&self, account_uuid: &str) -> StoreResult<u64>;
    fn owned(&self, account_uuid: &str, offset: u64, limit: u64) -> StoreResult<Vec<Client>>;
    fn credentials(&self, client_id: &str) -> StoreResult<Option<Credentials>>;
    /// Enables or disables the client, noting when and by whom; false when absent.
    fn set_active(
        &self,
        client_id: &str,
        active: bool,
        changed_by: Option<&str>,
    ) -> StoreResult<bool>;
    /// Replaces the client's secret (already hashed); false when absent.
    fn set_secret_hash(&self, client_id: &str, secret_hash: &str) -> StoreResult<bool>;
    /// Notes that the client just obtained a token.
    fn mark_used(&self, client_id: &str) -> StoreResult<()>;
}
