//! Small helpers to read `Any` rows: JSON text columns and 0/1 flags.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::StoreError;

/// Read a TEXT column holding JSON; an empty string decodes as the default.
pub fn json<T: DeserializeOwned + Default>(
    row: &AnyRow,
    column: &'static str,
) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
        column,
        reason: e.to_string(),
    })
}

/// Read a 0/1 flag column.
pub fn flag(row: &AnyRow, column: &'static str) -> Result<bool, StoreError> {
    let value: i64 = row.try_get(column)?;
    Ok(value != 0)
}

/// Encode a value as JSON text for a TEXT column.
pub fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// Encode a flag.
pub fn flag_value(value: bool) -> i64 {
    i64::from(value)
}
