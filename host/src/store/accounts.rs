//! Accounts: lookups, writes, and the pages of users the API lists.

use super::StoreResult;
use crate::contract::AccountUpdate;
use crate::contract::types::{Account, AccountOrder, LabelFilter, ListQuery, User};

/// A new account; the password is already hashed.
pub struct NewAccount<'a> {
    pub uuid: &'a str,
    pub username: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub email: &'a str,
    pub active: bool,
    /// None: no password at all (no password sign-in until one is set).
    pub password_hash: Option<&'a str>,
}

/// Accounts: lookups, writes, and the pages of users the API lists.
pub trait AccountStore {
    fn by_uuid(&self, uuid: &str) -> StoreResult<Option<Account>>;
    fn by_username(&self, username: &str) -> StoreResult<Option<Account>>;
    fn by_email(&self, email: &str) -> StoreResult<Option<Account>>;
    fn user(&self, uuid: &str) -> StoreResult<Option<User>>;
    /// Inserts an account holding `authorities` (which must exist) and returns it.
    fn insert(&self, new: &NewAccount, authorities: &[&str]) -> StoreResult<Account>;
    /// Replaces an account's own fields (and its password hash, when given) and touches it.
    fn update(&self, uuid: &str, c: &AccountUpdate, password_hash: Option<&str>)
    -> StoreResult<()>;
    fn delete(&self, uuid: &str) -> StoreResult<bool>;
    fn touch(&self, uuid: &str) -> StoreResult<()>;
    fn set_end_time(&self, uuid: &str, end_time: Option<u64>) -> StoreResult<()>;
    fn set_active(&self, uuid: &str, active: bool) -> StoreResult<()>;
    /// Accounts whose end time is before `time`, oldest end time first.
    fn expired_before(&self, time: u64) -> StoreResult<Vec<Account>>;
    fn count(&self) -> StoreResult<u64>;
    fn count_matching(&self, filter: Option<&str>) -> StoreResult<u64>;
    /// A page of the accounts matching `filter`, sorted.
    fn search(
        &self,
        filter: Option<&str>,
        order: AccountOrder,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>>;
    /// The account a certificate with exactly this subject is linked to.
    fn by_cert_subject(&self, subject: &str) -> StoreResult<Option<Account>>;
    fn count_with_label(&self, f: &LabelFilter) -> StoreResult<u64>;
    fn with_label(&self, f: &LabelFilter, offset: u64, limit: u64) -> StoreResult<Vec<User>>;
    fn count_in_group(&self, group: &str, member: bool, filter: Option<&str>) -> StoreResult<u64>;
    fn in_group(
        &self,
        group: &str,
        member: bool,
        filter: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>>;
    fn count_with_authority_nocase(&self, authority: &str) -> StoreResult<u64>;
    fn with_authority_nocase(
        &self,
        authority: &str,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>>;
    /// A page of a group's direct members, ordered by username.
    fn members_of(&self, group_uuid: &str, offset: u64, limit: u64) -> StoreResult<Vec<User>>;
    /// The users holding `authority`, ordered by username.
    fn with_authority(&self, authority: &str) -> StoreResult<Vec<User>>;
    /// A page of users in creation order.
    fn list_users(&self, offset: u64, limit: u64) -> StoreResult<Vec<User>>;
    /// The number of users a SCIM list query's filter selects. A filter the checks of
    /// `crate::scim::query` refuse is an error: check it first.
    fn count_users(&self, query: &ListQuery) -> StoreResult<u64>;
    /// A page of the users a SCIM list query selects, in its order (creation order without
    /// `sort-by`).
    fn find_users(&self, query: &ListQuery, offset: u64, limit: u64) -> StoreResult<Vec<User>>;
    /// The stored password hash of an account, if it has a password.
    fn password_hash(&self, uuid: &str) -> StoreResult<Option<String>>;
}
