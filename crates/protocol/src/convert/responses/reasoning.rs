//! Reasoning items ⇄ canonical thinking parts, and how opaque signatures
//! ride in `encrypted_content`.
//!
//! A reasoning item decodes into one [`Part::Thinking`]: its text is the
//! non-empty summary texts, then the raw `reasoning_text` parts, joined with
//! a blank line; its signature is `encrypted_content`. So an OpenAI
//! reasoning model's encrypted reasoning reaches a Chat or Anthropic client
//! as a signature, and comes back to the Responses upstream as
//! `encrypted_content` on the next turn.
//!
//! Encoding for a Responses **client**, one thinking part becomes one
//! reasoning item with one `summary_text` part (the text verbatim, so an
//! Anthropic signature, which covers the exact text, stays valid) and the
//! signature as `encrypted_content`. Two canonical parts the Responses API
//! has no item for are carried in `encrypted_content` under a prefix, so
//! that a Responses client echoing the item back restores them exactly:
//!
//! - [`REDACTED_PREFIX`] + data: Anthropic redacted thinking;
//! - [`TOOL_SIGNATURE_PREFIX`] + call id + `:` + signature: the provider
//!   signature of a tool call (Gemini `thoughtSignature`), which a
//!   `function_call` item cannot carry.
//!
//! Encoding for a Responses **upstream**, only signatures that are OpenAI
//! encrypted reasoning ([`is_openai_encrypted`]) are sent as
//! `encrypted_content`; other providers' signatures, unsigned thinking and
//! redacted thinking are dropped, since OpenAI rejects what it cannot
//! decrypt and has no use for reasoning text alone.

use crate::ir::Part;
use crate::responses::{ReasoningItem, ReasoningTextPart};

/// Prefix of `encrypted_content` carrying Anthropic redacted thinking.
pub const REDACTED_PREFIX: &str = "switchyard.redacted_thinking:";

/// Prefix of `encrypted_content` carrying a tool call's signature
/// (`<prefix><call id>:<signature>`).
pub const TOOL_SIGNATURE_PREFIX: &str = "switchyard.tool_signature:";

/// Prefix of OpenAI's encrypted reasoning (a Fernet token: version byte
/// `0x80` and a timestamp, base64url).
const OPENAI_ENCRYPTED_PREFIX: &str = "gAAAAA";

/// Whether a signature is OpenAI encrypted reasoning, which a Responses
/// upstream accepts back as `encrypted_content`.
pub fn is_openai_encrypted(signature: &str) -> bool {
    signature.starts_with(OPENAI_ENCRYPTED_PREFIX)
}

/// What a reasoning item carries.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Decoded {
    /// A thinking or redacted-thinking part.
    Part(Part),
    /// The signature of the tool call with this call id.
    ToolSignature {
        /// Call id.
        call_id: String,
        /// Signature.
        signature: String,
    },
    /// Nothing usable (an empty item known only by id).
    Nothing,
}

/// The reasoning text of an item: non-empty summary texts, then raw
/// reasoning texts, joined with a blank line.
pub(super) fn reasoning_text(item: &ReasoningItem) -> String {
    let parts = item.summary.iter().chain(item.content.iter().flatten());
    let texts: Vec<&str> = parts
        .map(|p| p.text.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    texts.join("\n\n")
}

/// Decodes a reasoning item.
pub(super) fn decode(item: &ReasoningItem) -> Decoded {
    let encrypted = item.encrypted_content.as_deref().filter(|e| !e.is_empty());
    if let Some(data) = encrypted.and_then(|e| e.strip_prefix(REDACTED_PREFIX)) {
        return Decoded::Part(Part::RedactedThinking {
            data: data.to_owned(),
        });
    }
    if let Some(rest) = encrypted.and_then(|e| e.strip_prefix(TOOL_SIGNATURE_PREFIX))
        && let Some((call_id, signature)) = rest.rsplit_once(':')
    {
        return Decoded::ToolSignature {
            call_id: call_id.to_owned(),
            signature: signature.to_owned(),
        };
    }
    let text = reasoning_text(item);
    if text.is_empty() && encrypted.is_none() {
        return Decoded::Nothing;
    }
    Decoded::Part(Part::Thinking {
        text,
        signature: encrypted.map(str::to_owned),
    })
}

/// A reasoning item for a Responses client (see the module docs), or
/// `None` for parts that are not reasoning.
pub(super) fn item_for_client(part: &Part, id: String) -> Option<ReasoningItem> {
    let (summary, encrypted) = match part {
        Part::Thinking { text, signature } => (
            if text.is_empty() {
                Vec::new()
            } else {
                vec![ReasoningTextPart::summary(text.clone())]
            },
            signature.clone().filter(|s| !s.is_empty()),
        ),
        Part::RedactedThinking { data } => (Vec::new(), Some(format!("{REDACTED_PREFIX}{data}"))),
        _ => return None,
    };
    Some(ReasoningItem {
        id: Some(id),
        summary,
        encrypted_content: encrypted,
        ..ReasoningItem::default()
    })
}

/// The item carrying a tool call's signature for a Responses client.
pub(super) fn tool_signature_item(call_id: &str, signature: &str, id: String) -> ReasoningItem {
    ReasoningItem {
        id: Some(id),
        encrypted_content: Some(format!("{TOOL_SIGNATURE_PREFIX}{call_id}:{signature}")),
        ..ReasoningItem::default()
    }
}

/// A reasoning item for a Responses upstream: only thinking signed with
/// OpenAI encrypted reasoning; no id (the upstream would look it up).
pub(super) fn item_for_upstream(part: &Part) -> Option<ReasoningItem> {
    let Part::Thinking {
        text,
        signature: Some(signature),
    } = part
    else {
        return None;
    };
    if !is_openai_encrypted(signature) {
        return None;
    }
    Some(ReasoningItem {
        summary: if text.is_empty() {
            Vec::new()
        } else {
            vec![ReasoningTextPart::summary(text.clone())]
        },
        encrypted_content: Some(signature.clone()),
        ..ReasoningItem::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_items_round_trip() {
        let parts = [
            Part::Thinking {
                text: "why".to_owned(),
                signature: Some("EqQBsig".to_owned()),
            },
            Part::Thinking {
                text: String::new(),
                signature: Some("gAAAAAbc".to_owned()),
            },
            Part::RedactedThinking {
                data: "opaque".to_owned(),
            },
        ];
        for part in parts {
            let item = item_for_client(&part, "rs_1".to_owned()).unwrap();
            assert_eq!(decode(&item), Decoded::Part(part));
        }
        let sig = tool_signature_item("call:1", "Cabc", "rs_2".to_owned());
        assert_eq!(
            decode(&sig),
            Decoded::ToolSignature {
                call_id: "call:1".to_owned(),
                signature: "Cabc".to_owned()
            }
        );
        assert_eq!(decode(&ReasoningItem::default()), Decoded::Nothing);
    }

    #[test]
    fn upstream_items_only_carry_openai_reasoning() {
        let anthropic = Part::Thinking {
            text: "x".to_owned(),
            signature: Some("EqQB".to_owned()),
        };
        assert!(item_for_upstream(&anthropic).is_none());
        let openai = Part::Thinking {
            text: "x".to_owned(),
            signature: Some("gAAAAABo".to_owned()),
        };
        let item = item_for_upstream(&openai).unwrap();
        assert_eq!(item.id, None);
        assert_eq!(item.encrypted_content.as_deref(), Some("gAAAAABo"));
    }
}
