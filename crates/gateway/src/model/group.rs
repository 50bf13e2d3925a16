//! Groups: the tenants. Tokens belong to a group; a group sees the channels
//! of its `available_sets`.

use serde::{Deserialize, Serialize};

use super::{FieldError, STATUS_ENABLED, check_status, clean_names, is_zero};
use crate::merge_fields;

/// The set every channel and group belongs to when none is given.
pub const DEFAULT_SET: &str = "default";

/// A group as stored and shown.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Group {
    /// Caller-chosen id (e.g. a namespace).
    pub id: String,
    /// 1 enabled, 2 disabled.
    pub status: i64,
    /// Multiplier on model RPM limits.
    pub rpm_ratio: f64,
    /// Multiplier on model TPM limits.
    pub tpm_ratio: f64,
    /// Channel sets this group may use; empty means `default`.
    pub available_sets: Vec<String>,
    /// Alert when the balance drops below the threshold.
    pub balance_alert_enabled: bool,
    /// Balance alert threshold.
    pub balance_alert_threshold: f64,
    /// Most requests in flight at once (0: no cap).
    pub max_concurrency: i64,
    /// Lifetime spending cap of the whole group (0: none).
    pub budget: f64,
    /// Money spent.
    pub used_amount: f64,
    /// Requests made.
    pub request_count: i64,
    /// Last use (ms).
    #[serde(skip_serializing_if = "is_zero")]
    pub accessed_at: i64,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// A group write; absent fields are kept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GroupWrite {
    /// Status.
    pub status: Option<i64>,
    /// RPM multiplier.
    pub rpm_ratio: Option<f64>,
    /// TPM multiplier.
    pub tpm_ratio: Option<f64>,
    /// Sets.
    pub available_sets: Option<Vec<String>>,
    /// Balance alert on/off.
    pub balance_alert_enabled: Option<bool>,
    /// Balance alert threshold.
    pub balance_alert_threshold: Option<f64>,
    /// Concurrency cap.
    pub max_concurrency: Option<i64>,
    /// Spending cap.
    pub budget: Option<f64>,
}

impl Group {
    /// A new enabled group with defaults.
    pub fn new(id: &str, now: i64) -> Self {
        Self {
            id: id.to_owned(),
            status: STATUS_ENABLED,
            rpm_ratio: 1.0,
            tpm_ratio: 1.0,
            available_sets: Vec::new(),
            balance_alert_enabled: false,
            balance_alert_threshold: 0.0,
            max_concurrency: 0,
            budget: 0.0,
            used_amount: 0.0,
            request_count: 0,
            accessed_at: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// True when the group may make requests.
    pub fn is_enabled(&self) -> bool {
        self.status == STATUS_ENABLED
    }

    /// The sets this group routes through.
    pub fn effective_sets(&self) -> Vec<String> {
        if self.available_sets.is_empty() {
            vec![DEFAULT_SET.to_owned()]
        } else {
            self.available_sets.clone()
        }
    }
}

/// Check a group id from a URL path.
pub fn check_group_id(id: &str) -> Result<(), FieldError> {
    if id.trim().is_empty() || id.chars().count() > 64 || id != id.trim() {
        return Err(FieldError::new(
            "group",
            "must be 1 to 64 characters without surrounding spaces",
        ));
    }
    Ok(())
}

impl GroupWrite {
    /// Check present fields.
    pub fn validate(&self) -> Result<(), FieldError> {
        if let Some(s) = self.status {
            check_status("status", s)?;
        }
        for (field, value) in [("rpm_ratio", self.rpm_ratio), ("tpm_ratio", self.tpm_ratio)] {
            if let Some(v) = value
                && (!v.is_finite() || v < 0.0)
            {
                return Err(FieldError::new(field, "must be a non-negative number"));
            }
        }
        if self.max_concurrency.is_some_and(|v| v < 0) {
            return Err(FieldError::new("max_concurrency", "must not be negative"));
        }
        if let Some(v) = self.budget
            && (!v.is_finite() || v < 0.0)
        {
            return Err(FieldError::new("budget", "must be a non-negative number"));
        }
        if let Some(v) = self.balance_alert_threshold
            && !v.is_finite()
        {
            return Err(FieldError::new(
                "balance_alert_threshold",
                "must be a number",
            ));
        }
        Ok(())
    }

    /// Merge present fields.
    pub fn apply_to(mut self, group: &mut Group) {
        if let Some(sets) = self.available_sets.take() {
            group.available_sets = clean_names(sets);
        }
        merge_fields!(
            self,
            group,
            [
                status,
                rpm_ratio,
                tpm_ratio,
                balance_alert_enabled,
                balance_alert_threshold,
                max_concurrency,
                budget
            ]
        );
    }
}
