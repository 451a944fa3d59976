//! `PUT /iam/account/me/proxycert` (reference §2.9): the proxy's end-entity certificate
//! must be one the caller has linked; it is (re)linked and the proxy stored beside it.

use crate::attributes::internal;
use crate::store::{Accounts, CertificateStore};
use crate::types::{Error, ParsedProxy, Principal};
use crate::validation::{is_blank, java_len};

/// The longest upload accepted.
pub const MAX_CHAIN: usize = 8192;

pub fn set_proxy(
    accounts: &impl Accounts,
    certs: &impl CertificateStore,
    caller: &Principal,
    chain: Option<&str>,
    parsed: Result<&ParsedProxy, &str>,
) -> Result<(), Error> {
    let chain = match chain {
        Some(c) if !is_blank(c) => c,
        _ => {
            return Err(Error::Invalid(
                "Invalid proxy certificate: must not be blank".into(),
            ));
        }
    };
    if java_len(chain) > MAX_CHAIN {
        return Err(Error::Invalid(format!(
            "Invalid proxy certificate: length must be between 0 and {MAX_CHAIN}"
        )));
    }
    let parsed = parsed
        .map_err(|e| Error::Invalid(format!("Error reading proxy certificate from string: {e}")))?;
    let account = caller
        .account_id
        .as_deref()
        .ok_or_else(|| Error::Invalid("No user linked to the current OAuth token".into()))?;
    let user = accounts
        .get_user(account)
        .map_err(internal)?
        .ok_or_else(|| Error::NotFound(format!("Account not found for id '{account}'")))?;
    let eec = &parsed.end_entity;
    if !user
        .certificates
        .iter()
        .any(|c| c.subject_dn == eec.subject_dn)
    {
        return Err(Error::Invalid(format!(
            "Invalid proxy: user '{}' does not own certificate '{}'",
            user.account.username, eec.subject_dn
        )));
    }
    certs.link(account, eec).map_err(internal)?;
    certs
        .set_proxy(&eec.subject_dn, &eec.issuer_dn, chain, parsed.expiration)
        .map_err(internal)?;
    accounts.touch(account).map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::FakeStore;
    use crate::types::Certificate;

    fn cert(subject: &str) -> Certificate {
        Certificate {
            display: None,
            subject_dn: subject.into(),
            issuer_dn: "CN=CA".into(),
            pem: "pem".into(),
            primary: false,
            created: 0,
            last_modified: 0,
            has_proxy: false,
            proxy_expiration: None,
        }
    }

    #[test]
    fn rules_in_order() {
        let s = FakeStore::default();
        let id = s.add_account("alice");
        let me = Principal {
            account_id: Some(id.clone()),
            username: Some("alice".into()),
            client_id: None,
            authorities: vec![],
            scopes: vec![],
        };
        let parsed = ParsedProxy {
            end_entity: cert("CN=alice"),
            expiration: 5,
        };
        let invalid = |r: Result<(), Error>| match r {
            Err(Error::Invalid(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            invalid(set_proxy(&s, &s, &me, None, Err("x"))),
            "Invalid proxy certificate: must not be blank"
        );
        let long = "x".repeat(MAX_CHAIN + 1);
        assert!(
            invalid(set_proxy(&s, &s, &me, Some(&long), Ok(&parsed)))
                .contains("length must be between 0 and 8192")
        );
        assert_eq!(
            invalid(set_proxy(&s, &s, &me, Some("junk"), Err("no certificate"))),
            "Error reading proxy certificate from string: no certificate"
        );
        assert_eq!(
            invalid(set_proxy(&s, &s, &me, Some("pem"), Ok(&parsed))),
            "Invalid proxy: user 'alice' does not own certificate 'CN=alice'"
        );
        s.set_identities(&id, &[], &[], &[], &[cert("CN=alice")])
            .unwrap();
        set_proxy(&s, &s, &me, Some("pem"), Ok(&parsed)).unwrap();
        assert_eq!(s.proxy_of("CN=alice"), Some(("pem".to_string(), 5)));
    }
}
