//! Authorities (roles such as `ROLE_ADMIN`, `ROLE_GM:<group>`) held by accounts.

use super::StoreResult;

/// Authorities (roles such as `ROLE_ADMIN`, `ROLE_GM:<group>`) held by accounts.
pub trait AuthorityStore {
    fn of_account(&self, uuid: &str) -> StoreResult<Vec<String>>;
    fn exists(&self, name: &str) -> StoreResult<bool>;
    /// Gives an existing authority to an account; false when it was already held (or either
    /// does not exist).
    fn grant(&self, uuid: &str, name: &str) -> StoreResult<bool>;
    fn revoke(&self, uuid: &str, name: &str) -> StoreResult<bool>;
}
