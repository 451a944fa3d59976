//! `certificate-store`: linked X.509 certificates and their proxies.

use super::{R, StoreView, err};
use crate::contract::iam::plugin::{certificate_store, types};

impl certificate_store::Host for StoreView<'_> {
    fn link(&mut self, account_id: String, cert: types::Certificate) -> R<()> {
        self.db()?
            .identities()
            .link_certificate(&account_id, &cert)
            .map_err(err)?;
        self.audit
            .account("x509 certificate linked", &account_id, cert.subject_dn);
        Ok(())
    }

    fn set_proxy(
        &mut self,
        account_id: String,
        subject_dn: String,
        issuer_dn: String,
        chain: String,
        expiration: u64,
    ) -> R<()> {
        self.db()?
            .identities()
            .set_proxy(&account_id, &subject_dn, &issuer_dn, &chain, expiration)
            .map_err(err)?;
        self.audit
            .account("x509 certificate updated", &account_id, subject_dn);
        Ok(())
    }
}
