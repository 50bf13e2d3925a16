//! JSON string escapes, both ways: decoding the contents of a scanned string
//! and encoding a Rust string as a JSON string literal for a patch.

use std::borrow::Cow;

use memchr::memchr;

use super::JsonScanError;

/// Encodes `s` as a JSON string literal, quotes included, ready to be used as
/// the value of a [`Patch`](super::Patch) or [`set_member`](super::set_member).
///
/// Escapes exactly what JSON requires (`"`, `\` and control characters) and
/// leaves everything else, non-ASCII included, as it is.
pub fn quote_str(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() + 2);
    out.push(b'"');
    let mut run_start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(run_start..i).unwrap_or_default());
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        run_start = i + 1;
    }
    out.extend_from_slice(bytes.get(run_start..).unwrap_or_default());
    out.push(b'"');
    out
}

/// Decodes the contents of a string (the bytes between its quotes).
///
/// `quote_at` is the offset of the opening quote in the body, used in errors.
/// Borrows when there is nothing to decode.
pub(super) fn unescape(inner: &[u8], quote_at: usize) -> Result<Cow<'_, str>, JsonScanError> {
    let invalid_utf8 = JsonScanError::InvalidUtf8 { at: quote_at };
    let Some(first) = memchr(b'\\', inner) else {
        return std::str::from_utf8(inner)
            .map(Cow::Borrowed)
            .map_err(|_| invalid_utf8);
    };
    let mut out = Vec::with_capacity(inner.len());
    out.extend_from_slice(inner.get(..first).unwrap_or_default());
    let mut pos = first;
    while let Some(&byte) = inner.get(pos) {
        if byte != b'\\' {
            let run = memchr(b'\\', inner.get(pos..).unwrap_or_default())
                .map_or(inner.len(), |i| pos + i);
            out.extend_from_slice(inner.get(pos..run).unwrap_or_default());
            pos = run;
            continue;
        }
        let invalid = JsonScanError::InvalidEscape {
            at: quote_at + 1 + pos,
        };
        let simple = match inner.get(pos + 1) {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => {
                let (ch, len) = unicode_escape(inner, pos).ok_or(invalid)?;
                let mut utf8 = [0; 4];
                out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
                pos += len;
                continue;
            }
            _ => return Err(invalid),
        };
        out.push(simple);
        pos += 2;
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| invalid_utf8)
}

/// Decodes `\uXXXX` at `pos`, or a `\uXXXX\uXXXX` surrogate pair.
/// Returns the character and how many bytes it took; `None` if invalid.
fn unicode_escape(inner: &[u8], pos: usize) -> Option<(char, usize)> {
    let high = hex4(inner, pos + 2)?;
    if !(0xD800..0xE000).contains(&high) {
        return Some((char::from_u32(high)?, 6));
    }
    if high >= 0xDC00 || inner.get(pos + 6..pos + 8) != Some(b"\\u") {
        return None;
    }
    let low = hex4(inner, pos + 8)?;
    if !(0xDC00..0xE000).contains(&low) {
        return None;
    }
    let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
    Some((char::from_u32(code)?, 12))
}

fn hex4(inner: &[u8], pos: usize) -> Option<u32> {
    let digits = inner.get(pos..pos + 4)?;
    digits.iter().try_fold(0, |acc, &digit| {
        Some(acc * 16 + char::from(digit).to_digit(16)?)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_serde_json() {
        for s in [
            "",
            "plain",
            "q\"uote",
            "back\\slash",
            "\n\r\t\u{8}\u{c}",
            "\u{0}\u{1f}\u{7f}",
            "é😀",
        ] {
            assert_eq!(quote_str(s), serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn unescape_round_trips_quote() {
        let s = "a\"b\\c\n\u{1}é😀";
        let quoted = quote_str(s);
        let inner = &quoted[1..quoted.len() - 1];
        assert_eq!(unescape(inner, 0).unwrap(), s);
    }

    #[test]
    fn unicode_escapes() {
        assert_eq!(unescape(br"\u0041\u00E9", 0).unwrap(), "Aé");
        assert_eq!(unescape(br"\uD83D\uDE00", 0).unwrap(), "😀");
        assert_eq!(
            unescape(br"ab\uDE00", 0),
            Err(JsonScanError::InvalidEscape { at: 3 })
        );
        assert_eq!(
            unescape(br"\uD83Dx", 0),
            Err(JsonScanError::InvalidEscape { at: 1 })
        );
        assert_eq!(
            unescape(br"\u12", 0),
            Err(JsonScanError::InvalidEscape { at: 1 })
        );
        assert_eq!(
            unescape(b"\\", 0),
            Err(JsonScanError::InvalidEscape { at: 1 })
        );
    }
}
