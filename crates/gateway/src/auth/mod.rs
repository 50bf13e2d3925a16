//! Relay authentication: the key from the request, the internal keys (admin
//! key, INTERNAL_TOKEN), and AI Proxy's token checks with its statuses.
//! Everything is answered from the in-memory snapshot.

use std::net::IpAddr;
use std::sync::Arc;

use http::HeaderMap;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::model::period::period_usage;
use crate::model::token::{key_hash, normalize_key};
use crate::snapshot::{GroupEntry, Snapshot, TokenEntry};
use crate::store::now_ms;

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The admin key or INTERNAL_TOKEN: every set, may pin channels.
    Internal,
    /// A group's token.
    Token {
        /// The token.
        token: Arc<TokenEntry>,
        /// Its group.
        group: Arc<GroupEntry>,
    },
}

impl Principal {
    /// Group id (empty for internal keys).
    pub fn group_id(&self) -> &str {
        match self {
            Self::Internal => "",
            Self::Token { group, .. } => &group.group.id,
        }
    }

    /// Token id (0 for internal keys).
    pub fn token_id(&self) -> i64 {
        match self {
            Self::Internal => 0,
            Self::Token { token, .. } => token.token.id,
        }
    }

    /// Token name.
    pub fn token_name(&self) -> &str {
        match self {
            Self::Internal => "",
            Self::Token { token, .. } => &token.token.name,
        }
    }

    /// Sets the caller may route through (`None`: all).
    pub fn sets(&self) -> Option<&[String]> {
        match self {
            Self::Internal => None,
            Self::Token { group, .. } => Some(&group.sets),
        }
    }

    /// The token's model allow-list (empty: no restriction).
    pub fn allowed_models(&self) -> &[String] {
        match self {
            Self::Internal => &[],
            Self::Token { token, .. } => &token.token.models,
        }
    }

    /// True for internal keys.
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Internal)
    }
}

/// Hashes of the keys with internal privileges.
#[derive(Debug, Clone)]
pub struct InternalKeys {
    admin: [u8; 32],
    internal: Option<[u8; 32]>,
}

impl InternalKeys {
    /// From the admin key hash and the optional INTERNAL_TOKEN.
    pub fn new(admin_hash: [u8; 32], internal_token: Option<&str>) -> Self {
        Self {
            admin: admin_hash,
            internal: internal_token.map(|t| key_hash(normalize_key(t))),
        }
    }

    /// True when `raw` (as sent, with or without `Bearer `/`sk-`) is the admin key.
    pub fn is_admin(&self, raw: &str) -> bool {
        bool::from(key_hash(normalize_key(raw)).ct_eq(&self.admin))
    }

    fn is_internal_hash(&self, hash: &[u8; 32]) -> bool {
        let admin = bool::from(hash.ct_eq(&self.admin));
        let internal = self.internal.is_some_and(|i| bool::from(hash.ct_eq(&i)));
        admin | internal
    }
}

/// The relay key of a request: `Authorization`, else `X-Api-Key`, else `X-Goog-Api-Key`.
pub fn request_key(headers: &HeaderMap) -> Option<&str> {
    ["authorization", "x-api-key", "x-goog-api-key"]
        .iter()
        .filter_map(|h| headers.get(*h))
        .filter_map(|v| v.to_str().ok())
        .map(normalize_key)
        .find(|k| !k.is_empty())
}

/// Authenticate a relay request against the snapshot.
pub fn authenticate(
    snapshot: &Snapshot,
    keys: &InternalKeys,
    key: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<Principal, ApiError> {
    if let Some(until) = ip.and_then(|ip| snapshot.blocked_ips.get(&ip))
        && *until > now_ms()
    {
        return Err(ApiError::forbidden("please try again later"));
    }
    let key = key.ok_or_else(|| ApiError::unauthorized("no token provided"))?;
    let hash = key_hash(key);
    if keys.is_internal_hash(&hash) {
        return Ok(Principal::Internal);
    }
    let token = snapshot
        .tokens
        .get(&hash)
        .ok_or_else(|| ApiError::unauthorized("invalid token"))?;
    let t = &token.token;
    // Formatted only for an error message.
    let label = || format!("{}[{}]", t.name, t.id);
    if !t.is_enabled() {
        return Err(ApiError::unauthorized(format!(
            "token ({}) is disabled",
            label()
        )));
    }
    if t.quota > 0.0 && t.used_amount >= t.quota {
        return Err(ApiError::unauthorized(format!(
            "token ({}) total quota is exhausted",
            label()
        )));
    }
    if t.period_quota > 0.0
        && period_usage(
            now_ms(),
            &t.period_type,
            t.used_amount,
            t.period_last_update_time,
            t.period_last_update_amount,
        ) >= t.period_quota
    {
        return Err(ApiError::unauthorized(format!(
            "token ({}) period quota is exhausted",
            label()
        )));
    }
    if !token.subnets.is_empty()
        && !ip.is_some_and(|ip| token.subnets.iter().any(|n| n.contains(&ip)))
    {
        let current = ip.map_or_else(|| "unknown".to_owned(), |i| i.to_string());
        return Err(ApiError::forbidden(format!(
            "token ({}) can only be used in the specified subnets: [{}], current ip: {current}",
            label(),
            t.subnets.join(", ")
        )));
    }
    let group = snapshot
        .groups
        .get(&t.group_id)
        .ok_or_else(|| ApiError::unauthorized("invalid token"))?;
    if !group.group.is_enabled() {
        return Err(ApiError::forbidden("group is disabled"));
    }
    Ok(Principal::Token {
        token: token.clone(),
        group: group.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn key_sources_in_order() {
        let mut h = HeaderMap::new();
        assert_eq!(request_key(&h), None);
        h.insert("x-goog-api-key", HeaderValue::from_static("g"));
        assert_eq!(request_key(&h), Some("g"));
        h.insert("x-api-key", HeaderValue::from_static("sk-x"));
        assert_eq!(request_key(&h), Some("x"));
        h.insert("authorization", HeaderValue::from_static("Bearer sk-a"));
        assert_eq!(request_key(&h), Some("a"));
    }

    /// A snapshot holding one token (key `k`, spent `used`) in an enabled group.
    fn snapshot_with(quota: f64, period_quota: f64, used: f64) -> Snapshot {
        let write = crate::model::token::TokenWrite::default();
        let mut token = crate::model::token::Token::new("g", write, "k".to_owned(), now_ms());
        token.quota = quota;
        token.period_quota = period_quota;
        token.used_amount = used;
        let mut s = Snapshot::default();
        s.groups.insert(
            "g".to_owned(),
            Arc::new(GroupEntry {
                group: crate::model::group::Group::new("g", now_ms()),
                sets: vec!["default".to_owned()],
            }),
        );
        s.tokens.insert(
            key_hash("k"),
            Arc::new(TokenEntry {
                token,
                subnets: Vec::new(),
            }),
        );
        s
    }

    #[test]
    fn spent_quotas_refuse_the_token() {
        let keys = InternalKeys::new(key_hash("admin"), None);
        let check = |s: &Snapshot| authenticate(s, &keys, Some("k"), None).map(|_| ());
        let spent = snapshot_with(1.0, 0.0, 1.0);
        let e = check(&spent).unwrap_err();
        assert_eq!(e.status, 401);
        let t = &spent.tokens[&key_hash("k")].token;
        assert_eq!(
            e.message,
            format!("token ({}[{}]) total quota is exhausted", t.name, t.id)
        );
        // Spent this period, counted from a period start of now with nothing spent before it.
        let e = check(&snapshot_with(0.0, 0.5, 0.5)).unwrap_err();
        assert!(
            e.message.contains("period quota is exhausted"),
            "{}",
            e.message
        );
        assert!(
            check(&snapshot_with(1.0, 0.5, 0.25)).is_ok(),
            "under both caps"
        );
    }

    #[test]
    fn internal_keys_match_in_any_form() {
        let keys = InternalKeys::new(key_hash("admin"), Some("sk-int"));
        assert!(keys.is_admin("Bearer sk-admin"));
        assert!(!keys.is_admin("int"));
        let s = Snapshot::default();
        assert!(
            authenticate(&s, &keys, Some("int"), None)
                .unwrap()
                .is_internal()
        );
        assert_eq!(
            authenticate(&s, &keys, Some("nope"), None)
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            authenticate(&s, &keys, None, None).unwrap_err().message,
            "no token provided"
        );
    }
}
