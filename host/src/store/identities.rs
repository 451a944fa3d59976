//! Linked identities: OIDC and SAML ids, SSH keys, X.509 certificates.

use super::StoreResult;
use crate::contract::types::{Certificate, OidcId, SamlId, SshKey};

/// Linked identities: OIDC and SAML ids, SSH keys, X.509 certificates.
pub trait IdentityStore {
    fn certificate_owner(&self, subject: &str, issuer: &str) -> StoreResult<Option<String>>;
    /// The UUID of the account an OIDC identity is linked to.
    fn oidc_owner(&self, id: &OidcId) -> StoreResult<Option<String>>;
    fn saml_owner(&self, id: &SamlId) -> StoreResult<Option<String>>;
    fn ssh_owner(&self, fingerprint: &str) -> StoreResult<Option<String>>;
    /// Replaces everything linked to the account. Unchanged SSH keys and certificates keep
    /// their times (and certificates their proxies).
    fn set(
        &self,
        uuid: &str,
        oidc: &[OidcId],
        saml: &[SamlId],
        ssh: &[SshKey],
        certificates: &[Certificate],
    ) -> StoreResult<()>;
    /// Links a certificate to the account, or refreshes the PEM of the account's one with the
    /// same subject and issuer; another account's certificate is left alone (an error).
    fn link_certificate(&self, uuid: &str, c: &Certificate) -> StoreResult<()>;
    /// Stores the proxy of the account's certificate with this subject and issuer. Only that
    /// account's row is written: a (subject, issuer) pair of another account is an error.
    fn set_proxy(
        &self,
        uuid: &str,
        subject: &str,
        issuer: &str,
        chain: &str,
        expiration: u64,
    ) -> StoreResult<()>;
}
