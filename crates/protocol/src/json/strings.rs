//! Finding the end of a JSON string fast, which is most of the work of
//! scanning a request body: prompts are strings.
//!
//! Three gears, picked by what the string looks like:
//!
//! - short strings (keys, roles, model names) are checked byte by byte;
//! - long runs without escapes (prose, CJK text) are skipped with `memchr2`;
//! - escape-dense text (source code, JSON inside a string), where `memchr2`
//!   would be restarted every few bytes, is read 64 bytes at a time: masks of
//!   quotes and backslashes are built word by word (SWAR) and the escaped
//!   characters found without branches, the way simdjson does it, in safe
//!   code. A block without any quote or backslash drops back to `memchr2`.

use memchr::memchr2;

use super::JsonScanError;

/// Bytes checked one by one before handing over to `memchr2`.
const SHORT_RUN: usize = 16;

/// Bytes per block in escape-dense mode: one bit each in a `u64` mask.
const BLOCK: usize = 64;

/// Skips the string whose opening quote is at `start`.
///
/// Returns the offset just past the closing quote and whether the contents
/// hold any backslash escape.
pub(super) fn string_end(buf: &[u8], start: usize) -> Result<(usize, bool), JsonScanError> {
    let unterminated = JsonScanError::UnterminatedString { at: start };
    let pos = start + 1;
    let rest = buf.get(pos..).ok_or(unterminated.clone())?;
    let found = find_quote_or_backslash(rest).ok_or(unterminated.clone())?;
    if rest.get(found) == Some(&b'"') {
        return Ok((pos + found + 1, false));
    }
    let end = escaped_string_end(buf, pos + found).ok_or(unterminated)?;
    Ok((end, true))
}

/// Finds the first `"` or `\` in `haystack`.
fn find_quote_or_backslash(haystack: &[u8]) -> Option<usize> {
    let short = haystack.get(..SHORT_RUN).unwrap_or(haystack);
    match short.iter().position(|&b| b == b'"' || b == b'\\') {
        Some(found) => Some(found),
        None => {
            let rest = haystack.get(short.len()..).unwrap_or_default();
            memchr2(b'"', b'\\', rest).map(|found| short.len() + found)
        }
    }
}

/// Finds the end of a string from `pos`, a point inside it that is not
/// itself escaped (the first backslash, typically). Returns the offset just
/// past the closing quote.
fn escaped_string_end(buf: &[u8], mut pos: usize) -> Option<usize> {
    // Whether the byte at `pos` is escaped by a backslash just before it.
    let mut carry = 0;
    loop {
        let Some(block) = buf.get(pos..pos + BLOCK) else {
            return tail_end(buf, pos, carry == 1);
        };
        let (quotes, backslashes) = masks(block);
        let escaped = escaped_bits(backslashes, &mut carry);
        let closing = quotes & !escaped;
        if closing != 0 {
            return Some(pos + closing.trailing_zeros() as usize + 1);
        }
        pos += BLOCK;
        if backslashes == 0 && carry == 0 {
            // A plain stretch: let memchr2 run ahead, then resume at the next special.
            let rest = buf.get(pos..)?;
            let found = memchr2(b'"', b'\\', rest)?;
            if rest.get(found) == Some(&b'"') {
                return Some(pos + found + 1);
            }
            pos += found;
        }
    }
}

/// The last bytes of the buffer, fewer than a block, byte by byte.
fn tail_end(buf: &[u8], mut pos: usize, first_escaped: bool) -> Option<usize> {
    if first_escaped {
        pos += 1;
    }
    while let Some(&byte) = buf.get(pos) {
        match byte {
            b'"' => return Some(pos + 1),
            b'\\' => pos += 2,
            _ => pos += 1,
        }
    }
    None
}

/// Bit masks (bit i = byte i) of the quotes and backslashes in a 64-byte block.
fn masks(block: &[u8]) -> (u64, u64) {
    let mut quotes = 0;
    let mut backslashes = 0;
    for (i, word) in block.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        quotes |= movemask(equal_bytes(word, b'"')) << (8 * i);
        backslashes |= movemask(equal_bytes(word, b'\\')) << (8 * i);
    }
    (quotes, backslashes)
}

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that equals `byte`, exactly (no false
/// positives from borrows, unlike the shorter "has zero byte" trick).
fn equal_bytes(word: u64, byte: u8) -> u64 {
    let x = word ^ (u64::from(byte) * 0x0101_0101_0101_0101);
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// Gathers the high bit of each byte into the low 8 bits (bit i = byte i).
fn movemask(high_bits: u64) -> u64 {
    ((high_bits & HIGH) >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// The characters escaped by a backslash in a block: for each run of
/// backslashes, the character after it if the run has odd length, plus every
/// second backslash inside it. `carry` says whether the block's first byte is
/// escaped and is updated for the next block. (simdjson's branchless method.)
fn escaped_bits(backslashes: u64, carry: &mut u64) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let backslashes = backslashes & !*carry;
    let follows_escape = (backslashes << 1) | *carry;
    let odd_starts = backslashes & !EVEN & !follows_escape;
    let (even_starts, overflow) = odd_starts.overflowing_add(backslashes);
    *carry = u64::from(overflow);
    let invert = even_starts << 1;
    (EVEN ^ invert) & follows_escape
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The obvious byte-by-byte scanner the fast one must agree with.
    fn naive(buf: &[u8], start: usize) -> Option<(usize, bool)> {
        let mut pos = start + 1;
        let mut escaped = false;
        while let Some(&byte) = buf.get(pos) {
            match byte {
                b'"' => return Some((pos + 1, escaped)),
                b'\\' => {
                    escaped = true;
                    pos += 2;
                }
                _ => pos += 1,
            }
        }
        None
    }

    #[test]
    fn equal_bytes_and_movemask_are_exact() {
        for byte in [0u8, b'"', b'\\', 0x7f, 0x80, 0xff] {
            for probe in 0..=255u8 {
                let word = u64::from_le_bytes([probe, byte, 0, probe, 0xff, byte, 1, probe]);
                let expected: u64 = [probe, byte, 0, probe, 0xff, byte, 1, probe]
                    .iter()
                    .enumerate()
                    .filter(|&(_, &b)| b == byte)
                    .map(|(i, _)| 1 << i)
                    .sum();
                assert_eq!(movemask(equal_bytes(word, byte)), expected);
            }
        }
    }

    #[test]
    fn agrees_with_naive_on_escape_patterns() {
        // Backslash runs of every length, at every alignment to the block.
        for run in 0..5 {
            for offset in 0..130 {
                let mut buf = vec![b'"'];
                buf.extend(std::iter::repeat_n(b'a', offset));
                buf.extend(std::iter::repeat_n(b'\\', run));
                buf.extend_from_slice(b"\"x\\\\\"");
                buf.extend(std::iter::repeat_n(b'b', 70));
                buf.push(b'"');
                assert_eq!(
                    string_end(&buf, 0).ok(),
                    naive(&buf, 0),
                    "run {run} offset {offset}"
                );
            }
        }
    }

    #[test]
    fn pseudo_random_strings_agree_with_naive() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..4000 {
            let len = (state % 300) as usize;
            let mut buf = vec![b'"'];
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                buf.push(match state % 16 {
                    0..=3 => b'\\',
                    4 => b'"',
                    _ => b'a',
                });
            }
            assert_eq!(string_end(&buf, 0).ok(), naive(&buf, 0), "{buf:?}");
        }
    }
}
