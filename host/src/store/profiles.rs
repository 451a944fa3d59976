//! Account profiles (nickname, locale, address, ...).

use super::StoreResult;
use crate::contract::types::Profile;

/// Account profiles (nickname, locale, address, ...).
pub trait ProfileStore {
    /// Replaces the account's profile; an empty one leaves no row behind.
    fn set(&self, uuid: &str, p: &Profile) -> StoreResult<()>;
}
