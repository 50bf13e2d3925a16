//! The SSE encoder: events and comments in the canonical form the gateway
//! sends to clients (`\n` line endings, one space after each colon).

use bytes::{BufMut, BytesMut};
use memchr::memchr2;

use super::SseEvent;

/// Appends one event: `event: <name>` if a name is given, one `data: ` line
/// per line of `data`, then the blank line that dispatches it.
///
/// Line breaks inside `data` (`\n`, `\r\n` or `\r`) become separate `data:`
/// lines, which a decoder joins back with `\n`. A name cannot hold a line
/// break, so it is cut at the first one.
pub fn encode_event(out: &mut BytesMut, event: Option<&[u8]>, data: &[u8]) {
    out.reserve(data.len() + event.map_or(0, <[u8]>::len) + 16);
    if let Some(name) = event {
        put_field(out, b"event: ", first_line(name));
    }
    put_data(out, data);
    out.put_u8(b'\n');
}

/// Appends a comment, `: <text>`, one comment line per line of `text`.
/// Clients ignore comments; the gateway sends them as keep-alives.
pub fn encode_comment(out: &mut BytesMut, text: &[u8]) {
    for_each_line(text, |line| put_field(out, b": ", line));
}

impl SseEvent {
    /// Appends this event in canonical form: `event:`, `id:` (each cut at a
    /// line break), the `data:` lines, and a blank line.
    pub fn encode(&self, out: &mut BytesMut) {
        out.reserve(self.data.len() + 32);
        if let Some(name) = &self.event {
            put_field(out, b"event: ", first_line(name));
        }
        if let Some(id) = &self.id {
            put_field(out, b"id: ", first_line(id));
        }
        put_data(out, &self.data);
        out.put_u8(b'\n');
    }
}

fn put_data(out: &mut BytesMut, data: &[u8]) {
    for_each_line(data, |line| put_field(out, b"data: ", line));
}

fn put_field(out: &mut BytesMut, prefix: &[u8], value: &[u8]) {
    out.put_slice(prefix);
    out.put_slice(value);
    out.put_u8(b'\n');
}

/// `value` up to its first line break.
fn first_line(value: &[u8]) -> &[u8] {
    let end = memchr2(b'\n', b'\r', value).unwrap_or(value.len());
    value.get(..end).unwrap_or(value)
}

/// Calls `f` with each line of `text` split at `\n`, `\r\n` or `\r`; empty
/// text is one empty line, and a trailing break yields a final empty line.
fn for_each_line(text: &[u8], mut f: impl FnMut(&[u8])) {
    let mut rest = text;
    while let Some(end) = memchr2(b'\n', b'\r', rest) {
        f(rest.get(..end).unwrap_or_default());
        let ending = if rest.get(end..end + 2) == Some(b"\r\n") {
            2
        } else {
            1
        };
        rest = rest.get(end + ending..).unwrap_or_default();
    }
    f(rest);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn encoded(f: impl FnOnce(&mut BytesMut)) -> String {
        let mut out = BytesMut::new();
        f(&mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn events() {
        assert_eq!(
            encoded(|out| encode_event(out, None, b"{\"a\":1}")),
            "data: {\"a\":1}\n\n"
        );
        assert_eq!(
            encoded(|out| encode_event(out, Some(b"delta"), b"a\nb\r\nc\rd\n")),
            "event: delta\ndata: a\ndata: b\ndata: c\ndata: d\ndata: \n\n"
        );
        assert_eq!(encoded(|out| encode_event(out, None, b"")), "data: \n\n");
        assert_eq!(
            encoded(|out| encode_event(out, Some(b"bad\nname"), b"x")),
            "event: bad\ndata: x\n\n"
        );
    }

    #[test]
    fn comments() {
        assert_eq!(encoded(|out| encode_comment(out, b"ping")), ": ping\n");
        assert_eq!(encoded(|out| encode_comment(out, b"a\nb")), ": a\n: b\n");
    }

    #[test]
    fn whole_events() {
        let event = SseEvent {
            event: Some(Bytes::from_static(b"message")),
            data: Bytes::from_static(b"x\ny"),
            id: Some(Bytes::from_static(b"7")),
        };
        assert_eq!(
            encoded(|out| event.encode(out)),
            "event: message\nid: 7\ndata: x\ndata: y\n\n"
        );
    }
}
