//! Linked credentials read from their text forms: OpenSSH public keys (fingerprints) and
//! PEM certificates (subject and issuer DNs).

/// Checks an OpenSSH public key (`<type> <base64 blob> [comment]`) and returns its
/// fingerprint as OpenSSH prints it (`SHA256:` and the unpadded base64 SHA-256 of the blob).
pub fn ssh_fingerprint(value: &str) -> Result<String, String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    use sha2::Digest as _;
    let mut parts = value.split_whitespace();
    let (Some(kind), Some(encoded)) = (parts.next(), parts.next()) else {
        return Err("expected '<type> <base64 key> [comment]'".into());
    };
    let blob = STANDARD
        .decode(encoded)
        .map_err(|_| "the key is not valid base64".to_string())?;
    // The blob starts with the key type again, as an SSH string (u32 length, bytes).
    let declared = blob
        .get(..4)
        .map(|n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize)
        .and_then(|n| blob.get(4..4 + n));
    if declared != Some(kind.as_bytes()) {
        return Err(format!("the key data is not a '{kind}' key"));
    }
    Ok(format!(
        "SHA256:{}",
        STANDARD_NO_PAD.encode(sha2::Sha256::digest(&blob))
    ))
}

/// Reads a PEM certificate and returns its subject and issuer DNs in RFC 2253 form.
pub fn certificate_dns(pem: &str) -> Result<(String, String), String> {
    use x509_cert::der::DecodePem;
    let cert =
        x509_cert::Certificate::from_pem(pem.trim().as_bytes()).map_err(|e| e.to_string())?;
    let tbs = &cert.tbs_certificate;
    Ok((tbs.subject.to_string(), tbs.issuer.to_string()))
}

#[cfg(test)]
mod tests {
    use super::ssh_fingerprint;

    // Keys made with ssh-keygen; the fingerprints are what `ssh-keygen -lf` printed.
    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPC3F+gTo1JZ3IlVZ7wpW+TSp3FxpTMZgSsf7DhriecQ test";
    const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDtjKc4HkNcBAGeftXPoHJKge1MOERSsjVk/K2kbIiIr2BaXW3kLPvqzJ9eKLW/wQ4JLzuiwenqKSTwF6Y8ZIbYQ8k2VNrNQuSXs3vj9UJ8z72la/FNUJoRGX5dI84f2FJJT4mdMj1l0Xcsh7uYyaGJYfJi4CPSgPxBgS7idXgalw== r";

    #[test]
    fn certificate_names_in_rfc2253_form() {
        let pem = include_str!("../../../tests/fixtures/test2-cert.pem");
        let (subject, issuer) = super::certificate_dns(pem).unwrap();
        assert_eq!(subject, "CN=test2,O=IGI,C=IT");
        assert_eq!(issuer, "CN=Test CA,O=IGI,C=IT");
        assert!(
            super::certificate_dns("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
                .is_err()
        );
        assert!(super::certificate_dns("junk").is_err());
    }

    #[test]
    fn ssh_fingerprints_as_openssh_prints_them() {
        assert_eq!(
            ssh_fingerprint(ED25519).unwrap(),
            "SHA256:dS3N7BY/u4XeXgEdWhI/qAd8VRHc0qGnSoJaqoJtcvM"
        );
        assert_eq!(
            ssh_fingerprint(RSA).unwrap(),
            "SHA256:VoYbA7Akm1TyMTrTXh5EaD4e2KKnKTCMrL60Jm3/b48"
        );
        // The declared type must match the key data.
        let mislabelled = ED25519.replacen("ssh-ed25519", "ssh-rsa", 1);
        assert!(ssh_fingerprint(&mislabelled).is_err());
        assert!(ssh_fingerprint("ssh-ed25519 !!!").is_err());
        assert!(ssh_fingerprint("nonsense").is_err());
    }
}
