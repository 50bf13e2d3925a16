//! Tokens: a group's API keys, with optional subnet and model allow-lists and
//! quotas.

use ipnet::IpNet;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{FieldError, STATUS_ENABLED, check_status, clean_names, is_zero};
use crate::merge_fields;

/// Length of generated keys (AI Proxy's 48 alphanumerics).
pub const KEY_LENGTH: usize = 48;

/// A token as stored and shown.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Token {
    /// Id.
    pub id: i64,
    /// The key (clients may prefix it with `sk-`).
    pub key: String,
    /// Name, unique within the group.
    pub name: String,
    /// Owning group.
    #[serde(rename = "group")]
    pub group_id: String,
    /// Client IPs must fall in one of these networks (empty: any).
    pub subnets: Vec<String>,
    /// Model allow-list (empty: every model of the group).
    pub models: Vec<String>,
    /// 1 enabled, 2 disabled.
    pub status: i64,
    /// Lifetime spending cap (0: none).
    pub quota: f64,
    /// Spending cap per period (0: none).
    pub period_quota: f64,
    /// `daily`, `weekly` or `monthly`.
    pub period_type: String,
    /// Requests per minute across the token's models (0: no limit).
    pub rpm: i64,
    /// Tokens per minute across the token's models (0: no limit).
    pub tpm: i64,
    /// Start of the current period (ms).
    pub period_last_update_time: i64,
    /// `used_amount` at the start of the current period.
    pub period_last_update_amount: f64,
    /// Money spent.
    pub used_amount: f64,
    /// Requests made.
    pub request_count: i64,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last use (ms).
    #[serde(skip_serializing_if = "is_zero")]
    pub accessed_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// A token write; absent fields are kept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TokenWrite {
    /// Name.
    pub name: Option<String>,
    /// Subnets.
    pub subnets: Option<Vec<String>>,
    /// Models.
    pub models: Option<Vec<String>>,
    /// Status.
    pub status: Option<i64>,
    /// Quota.
    pub quota: Option<f64>,
    /// Period quota.
    pub period_quota: Option<f64>,
    /// Period type.
    pub period_type: Option<String>,
    /// RPM limit.
    pub rpm: Option<i64>,
    /// TPM limit.
    pub tpm: Option<i64>,
}

/// Generate a new key from the OS-seeded CSPRNG.
pub fn generate_key() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(KEY_LENGTH)
        .map(char::from)
        .collect()
}

/// Strip what clients put in front of a key: `Bearer ` and `sk-`.
pub fn normalize_key(raw: &str) -> &str {
    let raw = raw.trim();
    let raw = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .unwrap_or(raw)
        .trim();
    raw.strip_prefix("sk-").unwrap_or(raw)
}

/// The lookup hash of a (normalised) key.
pub fn key_hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Hex form of [`key_hash`], as stored.
pub fn key_hash_hex(key: &str) -> String {
    hex::encode(key_hash(key))
}

impl Token {
    /// True when enabled.
    pub fn is_enabled(&self) -> bool {
        self.status == STATUS_ENABLED
    }

    /// A new token in `group` from a validated write.
    pub fn new(group: &str, write: TokenWrite, key: String, now: i64) -> Self {
        let mut token = Self {
            id: 0,
            key,
            name: String::new(),
            group_id: group.to_owned(),
            subnets: Vec::new(),
            models: Vec::new(),
            status: STATUS_ENABLED,
            quota: 0.0,
            period_quota: 0.0,
            period_type: "monthly".to_owned(),
            rpm: 0,
            tpm: 0,
            period_last_update_time: now,
            period_last_update_amount: 0.0,
            used_amount: 0.0,
            request_count: 0,
            created_at: now,
            accessed_at: 0,
            updated_at: now,
        };
        write.apply_to(&mut token);
        token
    }

    /// Parsed subnets (invalid entries were rejected on write).
    pub fn parsed_subnets(&self) -> Vec<IpNet> {
        self.subnets
            .iter()
            .filter_map(|s| parse_subnet(s))
            .collect()
    }
}

fn parse_subnet(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<std::net::IpAddr>().ok().map(IpNet::from))
}

impl TokenWrite {
    /// Check present fields; `creating` requires a name.
    pub fn validate(&self, creating: bool) -> Result<(), FieldError> {
        match &self.name {
            Some(name) if name.trim().is_empty() || name.trim().chars().count() > 32 => {
                return Err(FieldError::new("name", "must be 1 to 32 characters"));
            }
            None if creating => return Err(FieldError::new("name", "is required")),
            _ => {}
        }
        if let Some(subnets) = &self.subnets {
            for s in subnets.iter().filter(|s| !s.trim().is_empty()) {
                if parse_subnet(s.trim()).is_none() {
                    return Err(FieldError::new(
                        "subnets",
                        format!("`{s}` is not an IP address or CIDR"),
                    ));
                }
            }
        }
        if let Some(status) = self.status {
            check_status("status", status)?;
        }
        for (field, value) in [("quota", self.quota), ("period_quota", self.period_quota)] {
            if let Some(v) = value
                && (!v.is_finite() || v < 0.0)
            {
                return Err(FieldError::new(field, "must be a non-negative number"));
            }
        }
        for (field, value) in [("rpm", self.rpm), ("tpm", self.tpm)] {
            if value.is_some_and(|v| v < 0) {
                return Err(FieldError::new(field, "must not be negative"));
            }
        }
        if let Some(p) = &self.period_type
            && !matches!(p.as_str(), "daily" | "weekly" | "monthly" | "")
        {
            return Err(FieldError::new(
                "period_type",
                "must be daily, weekly or monthly",
            ));
        }
        Ok(())
    }

    /// Merge present fields.
    pub fn apply_to(mut self, token: &mut Token) {
        if let Some(name) = self.name.take() {
            token.name = name.trim().to_owned();
        }
        if let Some(subnets) = self.subnets.take() {
            token.subnets = clean_names(subnets);
        }
        if let Some(models) = self.models.take() {
            token.models = clean_names(models);
        }
        if let Some(p) = self.period_type.take() {
            token.period_type = if p.is_empty() {
                "monthly".to_owned()
            } else {
                p
            };
        }
        merge_fields!(self, token, [status, quota, period_quota, rpm, tpm]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_alphanumerics() {
        let a = generate_key();
        let b = generate_key();
        assert_eq!(a.len(), KEY_LENGTH);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn normalize_strips_bearer_and_sk() {
        assert_eq!(normalize_key("Bearer sk-abc"), "abc");
        assert_eq!(normalize_key("sk-abc"), "abc");
        assert_eq!(normalize_key(" abc "), "abc");
    }

    #[test]
    fn validation() {
        let w: TokenWrite =
            serde_json::from_str(r#"{"name":"a","subnets":["10.0.0.0/8","1.2.3.4"]}"#).unwrap();
        assert!(w.validate(true).is_ok());
        let w: TokenWrite = serde_json::from_str(r#"{"name":"a","subnets":["nope"]}"#).unwrap();
        assert!(w.validate(true).unwrap_err().0.contains("subnets"));
        let w: TokenWrite = serde_json::from_str(r#"{}"#).unwrap();
        assert!(w.validate(true).unwrap_err().0.contains("name"));
        assert!(w.validate(false).is_ok());
    }
}
