//! `PUT /iam/account/me/proxycert` (docs/api.md §12): the caller uploads a proxy credential
//! (certificate chain and private key, PEM); the host reads it and checks that each proxy
//! is signed by the certificate after it, up to the end-entity certificate; the guest
//! decides whether that certificate is the caller's.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use p256::ecdsa::signature::Verifier;
use rsa::pkcs1::DecodeRsaPublicKey;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::oid::db::rfc5912;
use x509_cert::der::{DecodePem, Encode};

use super::body::{JSON, json_object, string_field};
use super::{ApiError, AppState, Req};
use crate::contract::types::{Certificate, Operation, ParsedProxy};

/// RFC 3820's ProxyCertInfo extension.
const PROXY_CERT_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.14");

pub fn routes() -> Router<AppState> {
    Router::new().route("/iam/account/me/proxycert", put(set_proxy))
}

/// A proxy carries RFC 3820's extension, or (legacy Globus proxies) is named after its issuer
/// with one more RDN.
fn is_proxy(cert: &x509_cert::Certificate) -> bool {
    let tbs = &cert.tbs_certificate;
    let has_info = tbs
        .extensions
        .as_ref()
        .is_some_and(|exts| exts.iter().any(|e| e.extn_id == PROXY_CERT_INFO));
    has_info
        || tbs
            .subject
            .to_string()
            .ends_with(&format!(",{}", tbs.issuer))
}

fn not_after_ms(cert: &x509_cert::Certificate) -> u64 {
    let ms = cert
        .tbs_certificate
        .validity
        .not_after
        .to_unix_duration()
        .as_millis();
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// Checks that `cert` names `signer` as its issuer and carries a valid signature by
/// `signer`'s key. RSA (PKCS #1 v1.5 with SHA-2) and ECDSA (P-256 with SHA-256, P-384 with
/// SHA-384) are what CAs and proxy tools produce; anything else (SHA-1 included) is refused.
/// (Other curve and hash pairings are legal but unused; refusing them keeps this short.)
fn check_signed_by(
    cert: &x509_cert::Certificate,
    signer: &x509_cert::Certificate,
) -> Result<(), String> {
    let name = cert.tbs_certificate.subject.to_string();
    let signer_name = signer.tbs_certificate.subject.to_string();
    if cert.tbs_certificate.issuer != signer.tbs_certificate.subject {
        return Err(format!(
            "invalid chain: '{name}' is not issued by '{signer_name}', the certificate after it"
        ));
    }
    let signed = cert
        .tbs_certificate
        .to_der()
        .map_err(|e| format!("unreadable certificate '{name}': {e}"))?;
    let signature = cert.signature.raw_bytes();
    let spki = &signer.tbs_certificate.subject_public_key_info;
    let key = spki.subject_public_key.raw_bytes();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let bad_key = || format!("invalid chain: unreadable public key of '{signer_name}'");
    let algorithm = cert.signature_algorithm.oid;
    let rsa_hash = [
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION,
    ]
    .iter()
    .position(|a| *a == algorithm);
    let ecdsa_hash = [rfc5912::ECDSA_WITH_SHA_256, rfc5912::ECDSA_WITH_SHA_384]
        .iter()
        .position(|a| *a == algorithm);
    if rsa_hash.is_none() && ecdsa_hash.is_none() {
        return Err(format!(
            "invalid chain: unsupported signature algorithm {algorithm} on '{name}'"
        ));
    }
    let key_kind = spki.algorithm.oid;
    // A supported algorithm with a key that cannot make it (an ECDSA signature and an RSA
    // key, say) is simply a signature that key did not make.
    let valid = if key_kind == rfc5912::RSA_ENCRYPTION
        && let Some(hash) = rsa_hash
    {
        let public = rsa::RsaPublicKey::from_pkcs1_der(key).map_err(|_| bad_key())?;
        rsa::pkcs1v15::Signature::try_from(signature).is_ok_and(|sig| {
            match hash {
                0 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public).verify(&signed, &sig),
                1 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(public).verify(&signed, &sig),
                _ => rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(public).verify(&signed, &sig),
            }
            .is_ok()
        })
    } else if key_kind == rfc5912::ID_EC_PUBLIC_KEY && ecdsa_hash == Some(0) {
        if curve != Some(rfc5912::SECP_256_R_1) {
            return Err(format!(
                "invalid chain: '{signer_name}' has no P-256 key for the ECDSA-SHA256 signature on '{name}'"
            ));
        }
        let public = p256::ecdsa::VerifyingKey::from_sec1_bytes(key).map_err(|_| bad_key())?;
        p256::ecdsa::Signature::from_der(signature)
            .is_ok_and(|sig| public.verify(&signed, &sig).is_ok())
    } else if key_kind == rfc5912::ID_EC_PUBLIC_KEY && ecdsa_hash == Some(1) {
        if curve != Some(rfc5912::SECP_384_R_1) {
            return Err(format!(
                "invalid chain: '{signer_name}' has no P-384 key for the ECDSA-SHA384 signature on '{name}'"
            ));
        }
        let public = p384::ecdsa::VerifyingKey::from_sec1_bytes(key).map_err(|_| bad_key())?;
        p384::ecdsa::Signature::from_der(signature)
            .is_ok_and(|sig| public.verify(&signed, &sig).is_ok())
    } else {
        false
    };
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid chain: '{name}' is not signed by '{signer_name}', the certificate after it"
        ))
    }
}

/// Reads a proxy credential: PEM certificates (proxies first, then the end-entity
/// certificate and maybe its CAs) and one private key.
pub fn parse_proxy(text: &str) -> Result<ParsedProxy, String> {
    let mut certs: Vec<(x509_cert::Certificate, &str)> = Vec::new();
    let mut has_key = false;
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let header = &rest[start + "-----BEGIN ".len()..];
        let label = &header[..header.find("-----").ok_or("unterminated PEM header")?];
        let end_marker = format!("-----END {label}-----");
        let end = start
            + rest[start..]
                .find(&end_marker)
                .ok_or_else(|| format!("the {label} block has no end"))?
            + end_marker.len();
        let block = &rest[start..end];
        match label {
            "CERTIFICATE" => {
                let cert = x509_cert::Certificate::from_pem(block.as_bytes())
                    .map_err(|e| format!("unreadable certificate: {e}"))?;
                certs.push((cert, block));
            }
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
                x509_cert::der::pem::decode_vec(block.as_bytes())
                    .map_err(|e| format!("unreadable private key: {e}"))?;
                has_key = true;
            }
            other => return Err(format!("unexpected PEM block '{other}'")),
        }
        rest = &rest[end..];
    }
    if certs.is_empty() {
        return Err("no certificate found".into());
    }
    if !has_key {
        return Err("no private key found: a proxy credential needs its key".into());
    }
    let eec = certs
        .iter()
        .position(|(c, _)| !is_proxy(c))
        .ok_or("no end-entity certificate in the chain")?;
    // Each proxy must be signed by the next certificate, so the end-entity certificate's key
    // vouches for the whole chain (whose end-entity certificate the guest then checks).
    for pair in certs[..=eec].windows(2) {
        check_signed_by(&pair[0].0, &pair[1].0)?;
    }
    let expiration = certs[..=eec]
        .iter()
        .map(|(c, _)| not_after_ms(c))
        .min()
        .unwrap_or(0);
    let (cert, pem) = &certs[eec];
    let tbs = &cert.tbs_certificate;
    Ok(ParsedProxy {
        end_entity: Certificate {
            display: None,
            subject_dn: tbs.subject.to_string(),
            issuer_dn: tbs.issuer.to_string(),
            pem: pem.to_string(),
            primary: true,
            created: 0,
            last_modified: 0,
            has_proxy: false,
            proxy_expiration: None,
        },
        expiration,
    })
}

async fn set_proxy(req: Req, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let obj = json_object(&headers, &body, &[JSON])?;
    let chain = string_field(&obj, "certificate_chain")?;
    let parsed = match chain.as_deref() {
        Some(text) => parse_proxy(text),
        None => Err("no certificate chain".to_string()),
    };
    let me = req.caller.principal.clone();
    req.run(Operation::SetProxyCertificate, move |p, tx| {
        p.handle(&p.certificates, tx, |g, store| {
            g.call_set_proxy(
                store,
                &me,
                chain.as_deref(),
                parsed.as_ref().map_err(String::as_str),
            )
        })
    })
    .await?;
    Ok(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    use super::parse_proxy;

    const PROXY: &str = include_str!("../../../tests/fixtures/test2-proxy.pem");
    const CERT: &str = include_str!("../../../tests/fixtures/test2-cert.pem");

    #[test]
    fn reads_the_end_entity_and_the_earliest_expiry() {
        let p = parse_proxy(PROXY).unwrap();
        assert_eq!(p.end_entity.subject_dn, "CN=test2,O=IGI,C=IT");
        assert_eq!(p.end_entity.issuer_dn, "CN=Test CA,O=IGI,C=IT");
        assert_eq!(p.end_entity.pem.trim(), CERT.trim());
        // The proxy's notAfter (2125-06-18T06:44:25Z, as openssl printed it) is the earliest.
        assert_eq!(p.expiration, 4_905_902_665_000);
    }

    /// The fixture with the proxy's certificate changed by `f` (applied to its DER).
    fn proxy_with(f: impl Fn(&mut Vec<u8>)) -> String {
        use base64::Engine as _;
        let end = "-----END CERTIFICATE-----";
        let first = &PROXY[..PROXY.find(end).unwrap() + end.len()];
        let (_, mut der) = x509_cert::der::pem::decode_vec(first.as_bytes()).unwrap();
        f(&mut der);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let pem = format!("-----BEGIN CERTIFICATE-----\n{}\n{end}", lines.join("\n"));
        PROXY.replacen(first, &pem, 1)
    }

    #[test]
    fn a_proxy_must_be_signed_by_the_certificate_after_it() {
        // One bit of the signature (the certificate's last bytes) flipped.
        let forged = proxy_with(|der| *der.last_mut().unwrap() ^= 1);
        let err = parse_proxy(&forged).unwrap_err();
        assert_eq!(
            err,
            "invalid chain: 'CN=1234567,CN=test2,O=IGI,C=IT' is not signed by \
             'CN=test2,O=IGI,C=IT', the certificate after it"
        );
        // The proxy before another person's certificate: the names do not chain.
        let test3 = include_str!("../../../tests/fixtures/test3-cert.pem");
        let swapped = PROXY.replace(CERT.trim(), test3.trim());
        assert_ne!(swapped, PROXY);
        assert!(
            parse_proxy(&swapped)
                .unwrap_err()
                .contains("is not issued by 'CN=test3,O=IGI,C=IT'")
        );
    }

    #[test]
    fn refuses_what_is_not_a_credential() {
        assert!(parse_proxy("junk").is_err());
        assert!(parse_proxy(CERT).unwrap_err().contains("no private key"));
        let key_only = &PROXY[PROXY.find("-----BEGIN PRIVATE KEY").unwrap()..];
        let key_only = &key_only[..key_only.find("-----END PRIVATE KEY-----").unwrap() + 25];
        assert!(
            parse_proxy(key_only)
                .unwrap_err()
                .contains("no certificate")
        );
    }
}
