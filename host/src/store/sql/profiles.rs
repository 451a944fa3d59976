//! The optional SCIM profile of an account: nickname, profile URL, locale, time zone,
//! picture and one postal address.

use super::{Connection, params};

use crate::contract::types::{Address, Profile};
use crate::store::{ProfileStore, StoreResult};

pub fn empty() -> Profile {
    Profile {
        nick_name: None,
        profile_url: None,
        locale: None,
        timezone: None,
        picture: None,
        address: None,
    }
}

/// The profiles of accounts (see `super::per_account`); accounts without one have no row.
pub const OF_ACCOUNTS: &str = "SELECT p.nick_name, p.profile_url, p.locale, p.timezone, p.picture,
            p.has_address, p.address_formatted, p.address_street, p.address_locality,
            p.address_region, p.address_postal_code, p.address_country, a.uuid
     FROM account_profiles p JOIN accounts a ON a.id = p.account_id
     WHERE a.uuid IN (SELECT value FROM json_each(?1))";

pub fn from_row(r: &super::Row) -> super::Result<Profile> {
    let has_address: bool = r.get(5)?;
    Ok(Profile {
        nick_name: r.get(0)?,
        profile_url: r.get(1)?,
        locale: r.get(2)?,
        timezone: r.get(3)?,
        picture: r.get(4)?,
        address: if has_address {
            Some(Address {
                formatted: r.get(6)?,
                street_address: r.get(7)?,
                locality: r.get(8)?,
                region: r.get(9)?,
                postal_code: r.get(10)?,
                country: r.get(11)?,
            })
        } else {
            None
        },
    })
}

/// Replaces the account's profile; an empty one leaves no row behind.
pub fn set(conn: &Connection, uuid: &str, p: &Profile) -> super::Result<()> {
    conn.prepare_cached(
        "DELETE FROM account_profiles
         WHERE account_id = (SELECT id FROM accounts WHERE uuid = ?1)",
    )?
    .execute([uuid])?;
    let blank = [
        &p.nick_name,
        &p.profile_url,
        &p.locale,
        &p.timezone,
        &p.picture,
    ]
    .iter()
    .all(|f| f.is_none());
    if blank && p.address.is_none() {
        return Ok(());
    }
    let a = p.address.as_ref();
    conn.prepare_cached(
        "INSERT INTO account_profiles(account_id, nick_name, profile_url, locale, timezone,
             picture, has_address, address_formatted, address_street, address_locality,
             address_region, address_postal_code, address_country)
         SELECT id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 FROM accounts WHERE uuid = ?1",
    )?
    .execute(params![
        uuid,
        p.nick_name,
        p.profile_url,
        p.locale,
        p.timezone,
        p.picture,
        a.is_some(),
        a.and_then(|a| a.formatted.as_deref()),
        a.and_then(|a| a.street_address.as_deref()),
        a.and_then(|a| a.locality.as_deref()),
        a.and_then(|a| a.region.as_deref()),
        a.and_then(|a| a.postal_code.as_deref()),
        a.and_then(|a| a.country.as_deref()),
    ])?;
    Ok(())
}

impl ProfileStore for Connection {
    fn set(&self, uuid: &str, p: &Profile) -> StoreResult<()> {
        Ok(set(self, uuid, p)?)
    }
}
