//! `PUT /iam/account/me/proxycert` (reference §2.9): the caller uploads a proxy credential
//! (certificate chain and private key, PEM); the host reads it, the guest decides.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use x509_cert::der::DecodePem;
use x509_cert::der::asn1::ObjectIdentifier;

use super::body::{JSON, json_object, string_field};
use super::{ApiError, AppState, Family, Req};
use crate::plugins::types::{Certificate, Operation, ParsedProxy};
use crate::store::TxMode;

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
    cert.tbs_certificate
        .validity
        .not_after
        .to_unix_duration()
        .as_millis() as u64
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
    let me = req.caller.0.clone();
    req.run(
        Operation::SetProxyCertificate,
        Family::Iam,
        TxMode::Write,
        move |p, conn| {
            p.handle(&p.certificates, conn, |g, store| {
                g.call_set_proxy(
                    store,
                    &me,
                    chain.as_deref(),
                    parsed.as_ref().map_err(String::as_str),
                )
            })
        },
    )
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
