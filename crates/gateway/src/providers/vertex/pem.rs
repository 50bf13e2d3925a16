//! The service account's `private_key` (PEM) as the PKCS#1 `RSAPrivateKey`
//! DER the RS256 signer takes: a PKCS#8 `PRIVATE KEY` (what Google issues) is
//! unwrapped, an `RSA PRIVATE KEY` is used as is.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::VertexError;

/// DER of the `rsaEncryption` object identifier (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;

fn bad(message: &str) -> VertexError {
    VertexError::PrivateKey(message.to_owned())
}

/// The body of the PEM block labelled `label`, base64-decoded.
fn pem_block(pem: &str, label: &str) -> Option<Result<Vec<u8>, VertexError>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let text: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Some(
        STANDARD
            .decode(text)
            .map_err(|_| bad("the PEM body is not base64")),
    )
}

/// One DER element: (tag, contents, rest of the input).
fn element(input: &[u8]) -> Result<(u8, &[u8], &[u8]), VertexError> {
    let truncated = || bad("truncated DER");
    let (&tag, rest) = input.split_first().ok_or_else(truncated)?;
    let (&first, rest) = rest.split_first().ok_or_else(truncated)?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(bad("unsupported DER length"));
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(truncated());
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// The PKCS#1 key inside a PKCS#8 `PrivateKeyInfo`.
fn unwrap_pkcs8(der: &[u8]) -> Result<Vec<u8>, VertexError> {
    let (tag, info, _) = element(der)?;
    if tag != SEQUENCE {
        return Err(bad("not a PKCS#8 PrivateKeyInfo"));
    }
    let (tag, _version, rest) = element(info)?;
    if tag != INTEGER {
        return Err(bad("PKCS#8 version missing"));
    }
    let (tag, algorithm, rest) = element(rest)?;
    if tag != SEQUENCE || !algorithm.starts_with(RSA_ENCRYPTION_OID) {
        return Err(bad("not an RSA key (RS256 needs one)"));
    }
    let (tag, key, _) = element(rest)?;
    if tag != OCTET_STRING {
        return Err(bad("PKCS#8 private key missing"));
    }
    let (tag, _, _) = element(key)?;
    if tag != SEQUENCE {
        return Err(bad("not a PKCS#1 RSAPrivateKey"));
    }
    Ok(key.to_vec())
}

/// The RSA private key of a PEM text as PKCS#1 DER.
pub fn rsa_private_key_der(pem: &str) -> Result<Vec<u8>, VertexError> {
    if let Some(der) = pem_block(pem, "PRIVATE KEY") {
        return unwrap_pkcs8(&der?);
    }
    if let Some(der) = pem_block(pem, "RSA PRIVATE KEY") {
        let der = der?;
        let (tag, _, _) = element(&der)?;
        if tag != SEQUENCE {
            return Err(bad("not a PKCS#1 RSAPrivateKey"));
        }
        return Ok(der);
    }
    Err(bad(
        "no `-----BEGIN PRIVATE KEY-----` or `-----BEGIN RSA PRIVATE KEY-----` block",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_PEM: &str = include_str!("../../../tests/fixtures/vertex/test-sa-private.pem");

    #[test]
    fn pkcs8_is_unwrapped_to_pkcs1() {
        let der = rsa_private_key_der(TEST_PEM).unwrap();
        let (tag, body, rest) = element(&der).unwrap();
        assert_eq!(tag, SEQUENCE);
        assert!(rest.is_empty());
        // RSAPrivateKey starts with version 0.
        let (tag, version, _) = element(body).unwrap();
        assert_eq!((tag, version), (INTEGER, &[0u8][..]));
        // JSON keys carry `\n` escapes that serde turns into newlines; CRLF works too.
        let crlf = TEST_PEM.replace('\n', "\r\n");
        assert_eq!(rsa_private_key_der(&crlf).unwrap(), der);
    }

    #[test]
    fn pkcs1_pem_is_accepted() {
        let der = rsa_private_key_der(TEST_PEM).unwrap();
        let pem = format!(
            "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
            STANDARD.encode(&der)
        );
        assert_eq!(rsa_private_key_der(&pem).unwrap(), der);
    }

    #[test]
    fn rejects_garbage() {
        assert!(rsa_private_key_der("hello").is_err());
        let not_b64 = "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----";
        assert!(
            rsa_private_key_der(not_b64)
                .unwrap_err()
                .to_string()
                .contains("base64")
        );
        let short = "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----";
        assert!(rsa_private_key_der(short).is_err());
        // An EC key (id-ecPublicKey) is refused.
        let ec = "-----BEGIN PRIVATE KEY-----\nMBkCAQAwEAYHKoZIzj0CAQYFK4EEAAoEAjAA\n-----END PRIVATE KEY-----";
        assert!(
            rsa_private_key_der(ec)
                .unwrap_err()
                .to_string()
                .contains("not an RSA key")
        );
    }
}
