//! Helpers for the `type`-tagged enums of this module ([`Item`](super::Item),
//! [`ContentPart`](super::ContentPart), [`ResponsesTool`](super::ResponsesTool)):
//! known types decode into typed structs, anything else is kept verbatim.

use serde::de::{DeserializeOwned, Error};
use serde_json::Value;

/// The `type` member of a JSON object, or `""`.
pub(super) fn type_of(value: &Value) -> &str {
    value.get("type").and_then(Value::as_str).unwrap_or("")
}

/// Removes `type` and deserialises the rest into `T`.
pub(super) fn untag<T: DeserializeOwned, E: Error>(mut value: Value) -> Result<T, E> {
    if let Value::Object(map) = &mut value {
        map.remove("type");
    }
    T::deserialize(value).map_err(E::custom)
}
