//! Domain records shared by the admin API, the store and the snapshot:
//! channels, groups, tokens and model configs, with their JSON shapes (AI
//! Proxy's field names, timestamps in Unix ms) and their write rules.
//!
//! A `*Write` type is what a client sends: every field optional, so an update
//! changes only the fields present and never wipes what was not sent.

pub mod channel;
pub mod channel_test;
pub mod group;
pub mod model_config;
pub mod period;
pub mod token;

use thiserror::Error;

/// A field of a write request that is not acceptable; the message names it.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{0}")]
pub struct FieldError(pub String);

impl FieldError {
    /// Build an error for `field`.
    pub fn new(field: &str, problem: impl std::fmt::Display) -> Self {
        Self(format!("`{field}` {problem}"))
    }
}

/// Status value: enabled.
pub const STATUS_ENABLED: i64 = 1;
/// Status value: disabled.
pub const STATUS_DISABLED: i64 = 2;

/// Validate a status written by a client (1 enabled, 2 disabled).
pub fn check_status(field: &str, status: i64) -> Result<(), FieldError> {
    if status == STATUS_ENABLED || status == STATUS_DISABLED {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("must be 1 (enabled) or 2 (disabled), got {status}"),
        ))
    }
}

/// Trim, drop empties and duplicates from a list of names, keeping order.
pub fn clean_names(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let item = item.trim().to_owned();
        if !item.is_empty() && !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Skip serialising zero timestamps.
pub fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// Copy every present (`Some`) field of a write into the record.
#[macro_export]
macro_rules! merge_fields {
    ($write:expr, $record:expr, [$($field:ident),* $(,)?]) => {
        $( if let Some(value) = $write.$field { $record.$field = value; } )*
    };
}
