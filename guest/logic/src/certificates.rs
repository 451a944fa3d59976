//! `PUT /iam/account/me/proxycert` (docs/api.md §12): the proxy's end-entity certificate
//! must be one the caller has linked; it is (re)linked and the proxy stored beside it.
//!
//! INDIGO IAM matches the certificate by subject DN alone and then writes the linked
//! certificate with the same subject and issuer, whoever's it is. Here the (subject,
//! issuer) pair must not be another account's (409, IAM's wording for linking a credential
//! of another user) and the uploaded certificate must be the very one linked: DN strings
//! are only names, and anyone can make a certificate that carries them. (The host has
//! already checked that the proxies are signed by this certificate.)

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
    let username = &user.account.username;
    if !user
        .certificates
        .iter()
        .any(|c| c.subject_dn == eec.subject_dn)
    {
        return Err(Error::Invalid(format!(
            "Invalid proxy: user '{username}' does not own certificate '{}'",
            eec.subject_dn
        )));
    }
    if accounts
        .find_by_certificate(&eec.subject_dn, &eec.issuer_dn)
        .map_err(internal)?
        .is_some_and(|owner| owner.id != account)
    {
        return Err(Error::Conflict(format!(
            "X.509 credential with subject '{}' is already linked to another user",
            eec.subject_dn
        )));
    }
    let linked = user.certificates.iter().find(|c| {
        c.subject_dn == eec.subject_dn
            && c.issuer_dn == eec.issuer_dn
            && same_certificate(&c.pem, &eec.pem)
    });
    if linked.is_none() {
        return Err(Error::Invalid(format!(
            "Invalid proxy: the end-entity certificate '{}' (issuer '{}') is not the \
             certificate linked to user '{username}'",
            eec.subject_dn, eec.issuer_dn
        )));
    }
    certs.link(account, eec).map_err(internal)?;
    certs
        .set_proxy(
            account,
            &eec.subject_dn,
            &eec.issuer_dn,
            chain,
            parsed.expiration,
        )
        .map_err(internal)?;
    accounts.touch(account).map_err(internal)
}

/// Whether two PEM texts hold the same certificate: the same base64 body, whatever the
/// line breaks and the text around the block. (One DER encoding has one base64 form.)
fn same_certificate(a: &str, b: &str) -> bool {
    match (pem_body(a), pem_body(b)) {
        (Some(a), Some(b)) => !a.is_empty() && a == b,
        _ => false,
    }
}

/// The base64 of the first certificate block, without whitespace.
fn pem_body(pem: &str) -> Option<String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find(BEGIN)? + BEGIN.len();
    let len = pem[start..].find(END)?;
    Some(
        pem[start..start + len]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::FakeStore;
    use crate::types::Certificate;

    /// A certificate whose PEM body is `body` (the checks compare bodies, not DER).
    fn cert(subject: &str, issuer: &str, body: &str) -> Certificate {
        Certificate {
            display: None,
            subject_dn: subject.into(),
            issuer_dn: issuer.into(),
            pem: format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"),
            primary: false,
            created: 0,
            last_modified: 0,
            has_proxy: false,
            proxy_expiration: None,
        }
    }

    fn me(id: &str, username: &str) -> Principal {
        Principal {
            account_id: Some(id.into()),
            username: Some(username.into()),
            client_id: None,
            authorities: vec![],
            scopes: vec![],
        }
    }

    fn proxy_for(eec: Certificate) -> ParsedProxy {
        ParsedProxy {
            end_entity: eec,
            expiration: 5,
        }
    }

    #[test]
    fn rules_in_order() {
        let s = FakeStore::default();
        let id = s.add_account("alice");
        let me = me(&id, "alice");
        let parsed = proxy_for(cert("CN=alice", "CN=CA", "QUxJQ0U="));
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
        // The same certificate with other line breaks is still the linked one.
        s.set_identities(
            &id,
            &[],
            &[],
            &[],
            &[cert("CN=alice", "CN=CA", "QUxJ\r\nQ0U=")],
        )
        .unwrap();
        set_proxy(&s, &s, &me, Some("pem"), Ok(&parsed)).unwrap();
        assert_eq!(
            s.proxy_of(&id, "CN=alice", "CN=CA"),
            Some(("pem".to_string(), 5))
        );
    }

    #[test]
    fn only_the_linked_certificate_itself_carries_a_proxy() {
        let s = FakeStore::default();
        let victim = s.add_account("victim");
        let mallory = s.add_account("mallory");
        s.set_identities(&victim, &[], &[], &[], &[cert("CN=v", "CN=CA", "VklDVElN")])
            .unwrap();
        // Mallory holds a certificate with the victim's subject from another issuer.
        s.set_identities(&mallory, &[], &[], &[], &[cert("CN=v", "CN=Evil", "TUFM")])
            .unwrap();
        let mallory_me = me(&mallory, "mallory");

        // The victim's names, Mallory's certificate: the pair is the victim's.
        let forged = proxy_for(cert("CN=v", "CN=CA", "Rk9SR0VE"));
        assert_eq!(
            set_proxy(&s, &s, &mallory_me, Some("pem"), Ok(&forged)),
            Err(Error::Conflict(
                "X.509 credential with subject 'CN=v' is already linked to another user".into()
            ))
        );
        // Same subject and issuer as the victim's own certificate, but not that certificate.
        let victim_me = me(&victim, "victim");
        assert_eq!(
            set_proxy(&s, &s, &victim_me, Some("pem"), Ok(&forged)),
            Err(Error::Invalid(
                "Invalid proxy: the end-entity certificate 'CN=v' (issuer 'CN=CA') is not the \
                 certificate linked to user 'victim'"
                    .into()
            ))
        );
        assert_eq!(s.proxy_of(&victim, "CN=v", "CN=CA"), None);
        // A linked certificate without a PEM matches nothing.
        s.set_identities(&victim, &[], &[], &[], &[cert("CN=v", "CN=CA", "")])
            .unwrap();
        let empty = proxy_for(cert("CN=v", "CN=CA", ""));
        assert!(matches!(
            set_proxy(&s, &s, &victim_me, Some("pem"), Ok(&empty)),
            Err(Error::Invalid(_))
        ));
        // Mallory's own certificate works, and only Mallory's row gets the proxy.
        let own = proxy_for(cert("CN=v", "CN=Evil", "TUFM"));
        set_proxy(&s, &s, &mallory_me, Some("pem"), Ok(&own)).unwrap();
        assert_eq!(
            s.proxy_of(&mallory, "CN=v", "CN=Evil"),
            Some(("pem".to_string(), 5))
        );
        assert_eq!(s.proxy_of(&victim, "CN=v", "CN=CA"), None);
    }

    #[test]
    fn pem_bodies_compare_without_whitespace() {
        let a = "junk\n-----BEGIN CERTIFICATE-----\nAB\nCD\n-----END CERTIFICATE-----\n";
        let b = "-----BEGIN CERTIFICATE-----\r\nABCD\r\n-----END CERTIFICATE-----";
        assert!(same_certificate(a, b));
        assert!(!same_certificate(
            a,
            "-----BEGIN CERTIFICATE-----\nABCE\n-----END CERTIFICATE-----"
        ));
        assert!(!same_certificate("", ""));
        assert!(!same_certificate("ABCD", "ABCD"));
    }
}
