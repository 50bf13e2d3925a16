//! AWS SigV4 request signing (header form) with `aws-sigv4`.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use http::{HeaderName, HeaderValue};

use super::{BedrockError, SigV4Credentials};

/// The parts of an HTTP request that SigV4 covers.
#[derive(Debug, Clone, Copy)]
pub struct SignRequest<'a> {
    /// HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// Full URL, already percent-encoded as it will be sent (with scheme and
    /// host; a non-default port is part of the signed `host`).
    pub url: &'a str,
    /// Headers that will be sent and should be signed (e.g. `content-type`).
    /// `host` is taken from the URL when absent; `authorization` and
    /// `user-agent` are never signed.
    pub headers: &'a [(&'a str, &'a str)],
    /// The exact body bytes.
    pub body: &'a [u8],
}

/// Sign `request` with SigV4 for `service` in `region` at `time` and return
/// the headers to add: `authorization`, `x-amz-date` and, for temporary
/// credentials, `x-amz-security-token` (values marked sensitive where
/// secret). The payload hash is signed but not sent as a header
/// (`x-amz-content-sha256` is an S3 requirement, not Bedrock's).
pub fn sign_sigv4(
    request: &SignRequest<'_>,
    credentials: &SigV4Credentials,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<Vec<(HeaderName, HeaderValue)>, BedrockError> {
    check_url(request.url)?;
    let identity = Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        None,
        "switchyard-channel",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| BedrockError::Sign(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.url,
        request.headers.iter().copied(),
        SignableBody::Bytes(request.body),
    )
    .map_err(|e| BedrockError::Sign(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| BedrockError::Sign(e.to_string()))?
        .into_parts();
    let (headers, _params) = instructions.into_parts();
    headers
        .into_iter()
        .map(|h| {
            let invalid = || BedrockError::Sign(format!("invalid signing header {}", h.name()));
            let name = HeaderName::from_bytes(h.name().as_bytes()).map_err(|_| invalid())?;
            let mut value = HeaderValue::from_str(h.value()).map_err(|_| invalid())?;
            value.set_sensitive(h.sensitive() || name == http::header::AUTHORIZATION);
            Ok((name, value))
        })
        .collect()
}

/// `aws-sigv4` panics on a URL without an authority: refuse it first.
fn check_url(url: &str) -> Result<(), BedrockError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| BedrockError::Sign(format!("invalid URL: {e}")))?;
    if uri.authority().is_none() || uri.scheme().is_none() {
        return Err(BedrockError::Sign("the URL has no scheme and host".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// 2015-08-30T12:36:00Z, the time of the AWS SigV4 test suite.
    fn suite_time() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    fn suite_credentials(token: Option<&str>) -> SigV4Credentials {
        SigV4Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(str::to_owned),
        }
    }

    fn header<'a>(headers: &'a [(HeaderName, HeaderValue)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.to_str().unwrap())
    }

    fn suite_sign(method: &str, token: Option<&str>) -> Vec<(HeaderName, HeaderValue)> {
        let req = SignRequest {
            method,
            url: "https://example.amazonaws.com/",
            headers: &[],
            body: b"",
        };
        sign_sigv4(
            &req,
            &suite_credentials(token),
            "us-east-1",
            "service",
            suite_time(),
        )
        .unwrap()
    }

    /// `get-vanilla` and `post-vanilla` of the published AWS SigV4 test suite.
    #[test]
    fn aws_test_suite_vanilla() {
        let get = suite_sign("GET", None);
        assert_eq!(
            header(&get, "authorization").unwrap(),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert_eq!(header(&get, "x-amz-date"), Some("20150830T123600Z"));
        let post = suite_sign("POST", None);
        assert!(header(&post, "authorization").unwrap().ends_with(
            "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        ));
    }

    /// `post-sts-header-before`: the session token is sent and signed.
    #[test]
    fn aws_test_suite_session_token() {
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
        let h = suite_sign("POST", Some(token));
        assert_eq!(header(&h, "x-amz-security-token"), Some(token));
        assert!(
            h.iter()
                .find(|(n, _)| n == "x-amz-security-token")
                .unwrap()
                .1
                .is_sensitive()
        );
        assert!(header(&h, "authorization").unwrap().ends_with(
            "SignedHeaders=host;x-amz-date;x-amz-security-token, \
             Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        ));
    }

    #[test]
    fn bedrock_request_is_deterministic_and_signs_given_headers() {
        let url =
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-v2%3A1/invoke";
        let headers = [
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ];
        let req = SignRequest {
            method: "POST",
            url,
            headers: &headers,
            body: br#"{"max_tokens":1}"#,
        };
        let creds = suite_credentials(None);
        let a = sign_sigv4(&req, &creds, "us-east-1", "bedrock", suite_time()).unwrap();
        let b = sign_sigv4(&req, &creds, "us-east-1", "bedrock", suite_time()).unwrap();
        assert_eq!(a, b);
        let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"authorization") && names.contains(&"x-amz-date"));
        let auth = header(&a, "authorization").unwrap();
        assert!(auth.contains("/20150830/us-east-1/bedrock/aws4_request"));
        assert!(auth.contains("SignedHeaders=accept;content-type;host;x-amz-date"));
        let other_body = SignRequest {
            body: br#"{"max_tokens":2}"#,
            ..req
        };
        let c = sign_sigv4(&other_body, &creds, "us-east-1", "bedrock", suite_time()).unwrap();
        assert_ne!(header(&a, "authorization"), header(&c, "authorization"));
        let later = sign_sigv4(
            &req,
            &creds,
            "us-east-1",
            "bedrock",
            suite_time() + Duration::from_secs(1),
        )
        .unwrap();
        assert_ne!(header(&a, "authorization"), header(&later, "authorization"));
    }

    #[test]
    fn url_without_host_is_an_error_not_a_panic() {
        let req = SignRequest {
            method: "POST",
            url: "/model/x/invoke",
            headers: &[],
            body: b"",
        };
        let e = sign_sigv4(
            &req,
            &suite_credentials(None),
            "us-east-1",
            "bedrock",
            suite_time(),
        );
        assert!(matches!(e, Err(BedrockError::Sign(_))));
    }
}
