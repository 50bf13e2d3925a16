//! The incremental SSE decoder: bytes in, in any split, events and comments out.

use std::collections::VecDeque;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use memchr::{memchr, memchr2};

use super::{SseEvent, SseItem};

/// Why the decoder gave up on a stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// One event (all lines since the previous blank line, or one unfinished
    /// line) grew past the decoder's limit.
    #[error("server-sent event exceeds the {limit}-byte limit")]
    EventTooLarge {
        /// The limit given to [`SseDecoder::new`].
        limit: usize,
    },
}

/// Decodes a Server-Sent Events stream incrementally.
///
/// [`push`](Self::push) each chunk as it arrives, then drain
/// [`next_item`](Self::next_item); at end of input call
/// [`finish`](Self::finish) until it returns `None`. The items are the same
/// however the stream is split into chunks, down to one byte each.
///
/// Lines end in `\n`, `\r\n` or `\r` (also when the `\r` and `\n` arrive in
/// different chunks); a blank line dispatches the event; `field: value` loses
/// one space after the colon; a line without a colon is a field with an empty
/// value; fields other than `event`, `data` and `id` (`retry` included) are
/// ignored; an event without `data` lines is not dispatched. Deviations from
/// the WHATWG algorithm, chosen for a proxy rather than a browser: comments
/// are yielded as [`SseItem::Comment`]; [`SseEvent::id`] is the event's own
/// `id` field, not carried over; a byte-order mark is not stripped; and
/// [`finish`](Self::finish) dispatches an event whose final blank line is
/// missing, as many upstreams omit it.
///
/// Single-line `data` (the common case) is a zero-copy slice of the buffered
/// input; multi-line data is joined into one new buffer.
#[derive(Debug)]
pub struct SseDecoder {
    /// Input not yet split into lines: at most one unfinished line after `push`.
    buf: BytesMut,
    /// The last line ended in `\r` at the very end of the input so far; a `\n`
    /// starting the next chunk belongs to that line ending.
    skip_lf: bool,
    /// Bytes of the lines since the previous blank line (without line endings).
    event_bytes: usize,
    max_event_bytes: usize,
    event: Option<Bytes>,
    id: Option<Bytes>,
    data: Data,
    ready: Ready,
    failed: bool,
}

/// Items decoded and not yet popped, in order. Nearly always at most one is
/// waiting (the relay drains after every chunk), so the first is kept inline
/// and the queue's buffer is touched only when more arrive together.
#[derive(Debug, Default)]
struct Ready {
    first: Option<SseItem>,
    rest: VecDeque<SseItem>,
}

impl Ready {
    fn push(&mut self, item: SseItem) {
        if self.is_empty() {
            self.first = Some(item);
        } else {
            self.rest.push_back(item);
        }
    }

    fn pop(&mut self) -> Option<SseItem> {
        self.first.take().or_else(|| self.rest.pop_front())
    }

    fn is_empty(&self) -> bool {
        self.first.is_none() && self.rest.is_empty()
    }
}

/// The `data` lines collected so far for the pending event.
#[derive(Debug, Default)]
enum Data {
    /// No `data` line yet: nothing to dispatch.
    #[default]
    None,
    /// Exactly one line, kept as a slice of the input.
    One(Bytes),
    /// Several lines, joined with `\n`.
    Many(BytesMut),
}

impl SseDecoder {
    /// A decoder that refuses any event larger than `max_event_bytes`, so a
    /// misbehaving upstream cannot make it buffer without bound.
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            skip_lf: false,
            event_bytes: 0,
            max_event_bytes,
            event: None,
            id: None,
            data: Data::None,
            ready: Ready::default(),
            failed: false,
        }
    }

    /// Feeds the next chunk of the stream.
    ///
    /// Complete lines are decoded at once; finished items wait for
    /// [`next_item`](Self::next_item). After an error the stream is
    /// abandoned: the pending event is dropped and every later `push` fails
    /// too, though items completed before the error can still be popped.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), SseError> {
        if self.failed {
            return Err(self.too_large());
        }
        let mut chunk = chunk;
        if self.skip_lf
            && let Some((&first, rest)) = chunk.split_first()
        {
            self.skip_lf = false;
            if first == b'\n' {
                chunk = rest;
            }
        }
        // Bytes already in the buffer hold no line ending; search only the new ones.
        let mut search_from = self.buf.len();
        self.buf.extend_from_slice(chunk);
        while let Some(found) = memchr2(
            b'\n',
            b'\r',
            self.buf.get(search_from..).unwrap_or_default(),
        ) {
            let end = search_from + found;
            let line = self.buf.split_to(end).freeze();
            let ending = line_ending(&self.buf, &mut self.skip_lf);
            self.buf.advance(ending);
            search_from = 0;
            self.line(line)?;
        }
        if self.event_bytes + self.buf.len() > self.max_event_bytes {
            return Err(self.fail());
        }
        Ok(())
    }

    /// Feeds the next chunk of the stream when it is already a [`Bytes`]:
    /// the same as [`push`](Self::push), but lines that end inside the chunk
    /// are sliced out of it rather than copied, so the items share the
    /// chunk's buffer. Only an unfinished last line is copied, to wait for
    /// the rest of it.
    pub fn push_shared(&mut self, chunk: &Bytes) -> Result<(), SseError> {
        if self.failed || !self.buf.is_empty() {
            return self.push(chunk);
        }
        let mut rest = chunk.clone();
        if self.skip_lf && !rest.is_empty() {
            self.skip_lf = false;
            if rest.first() == Some(&b'\n') {
                rest.advance(1);
            }
        }
        while let Some(end) = memchr2(b'\n', b'\r', &rest) {
            let line = rest.split_to(end);
            let ending = line_ending(&rest, &mut self.skip_lf);
            rest.advance(ending);
            self.line(line)?;
        }
        self.buf.extend_from_slice(&rest);
        if self.event_bytes + self.buf.len() > self.max_event_bytes {
            return Err(self.fail());
        }
        Ok(())
    }

    /// Pops the next complete item, or `None` if more input is needed.
    pub fn next_item(&mut self) -> Option<SseItem> {
        self.ready.pop()
    }

    /// Ends the input: the unfinished last line counts as a line and a pending
    /// event is dispatched even without its final blank line. Returns the
    /// remaining items one per call, then `None`.
    pub fn finish(&mut self) -> Option<SseItem> {
        self.skip_lf = false;
        if !self.failed {
            if !self.buf.is_empty() {
                let line = self.buf.split().freeze();
                // Within the limit: `push` checked the unfinished line.
                if self.line(line).is_err() {
                    return self.ready.pop();
                }
            }
            self.dispatch();
        }
        self.ready.pop()
    }

    /// Bytes held for the event being assembled: the lines since the previous
    /// blank line plus the unfinished line. This is what the limit applies to.
    pub fn buffered(&self) -> usize {
        self.event_bytes + self.buf.len()
    }

    /// Whether the decoder stands between events: every item popped, no
    /// line or field of a next event held, no line ending half read, not
    /// failed. Input that starts a new event may then bypass it (see
    /// [`whole_events`](super::whole_events)) without changing
    /// what it yields afterwards.
    pub fn is_between_events(&self) -> bool {
        !self.failed
            && !self.skip_lf
            && self.buf.is_empty()
            && self.event_bytes == 0
            && self.event.is_none()
            && self.id.is_none()
            && matches!(self.data, Data::None)
            && self.ready.is_empty()
    }

    /// Interprets one complete line (without its ending).
    fn line(&mut self, line: Bytes) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch();
            return Ok(());
        }
        self.event_bytes += line.len();
        if self.event_bytes > self.max_event_bytes {
            return Err(self.fail());
        }
        let colon = memchr(b':', &line);
        if colon == Some(0) {
            self.ready
                .push(SseItem::Comment(strip_space(line.slice(1..))));
            return Ok(());
        }
        let (name, value) = match colon {
            Some(colon) => (line.get(..colon), strip_space(line.slice(colon + 1..))),
            None => (Some(&line[..]), Bytes::new()),
        };
        match name {
            Some(b"data") => self.data.push(value),
            Some(b"event") => self.event = (!value.is_empty()).then_some(value),
            Some(b"id") if !value.contains(&0) => self.id = Some(value),
            _ => {}
        }
        Ok(())
    }

    /// A blank line: queue the pending event if it has data, and start afresh.
    fn dispatch(&mut self) {
        self.event_bytes = 0;
        let event = self.event.take();
        let id = self.id.take();
        if let Some(data) = std::mem::take(&mut self.data).finish() {
            self.ready
                .push(SseItem::Event(SseEvent { event, data, id }));
        }
    }

    fn fail(&mut self) -> SseError {
        self.failed = true;
        self.buf = BytesMut::new();
        self.event = None;
        self.id = None;
        self.data = Data::None;
        self.event_bytes = 0;
        self.too_large()
    }

    fn too_large(&self) -> SseError {
        SseError::EventTooLarge {
            limit: self.max_event_bytes,
        }
    }
}

impl Data {
    fn push(&mut self, line: Bytes) {
        *self = match std::mem::take(self) {
            Self::None => Self::One(line),
            Self::One(first) => {
                let mut joined = BytesMut::with_capacity(first.len() + 1 + line.len());
                joined.put_slice(&first);
                joined.put_u8(b'\n');
                joined.put_slice(&line);
                Self::Many(joined)
            }
            Self::Many(mut joined) => {
                joined.put_u8(b'\n');
                joined.put_slice(&line);
                Self::Many(joined)
            }
        }
    }

    fn finish(self) -> Option<Bytes> {
        match self {
            Self::None => None,
            Self::One(data) => Some(data),
            Self::Many(joined) => Some(joined.freeze()),
        }
    }
}

/// The length of the line ending at the start of `rest` (which starts with
/// `\n` or `\r`). A `\r` that ends the input so far may be the first half of
/// a `\r\n` split across chunks: `skip_lf` is set to drop a `\n` that starts
/// the next chunk.
fn line_ending(rest: &[u8], skip_lf: &mut bool) -> usize {
    match (rest.first(), rest.get(1)) {
        (Some(b'\r'), Some(b'\n')) => 2,
        (Some(b'\r'), None) => {
            *skip_lf = true;
            1
        }
        _ => 1,
    }
}

/// Drops one leading space, as the grammar does after `field:`.
fn strip_space(value: Bytes) -> Bytes {
    if value.first() == Some(&b' ') {
        value.slice(1..)
    } else {
        value
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn event(name: Option<&str>, data: &str, id: Option<&str>) -> SseItem {
        SseItem::Event(SseEvent {
            event: name.map(|n| Bytes::copy_from_slice(n.as_bytes())),
            data: Bytes::copy_from_slice(data.as_bytes()),
            id: id.map(|i| Bytes::copy_from_slice(i.as_bytes())),
        })
    }

    fn data(data: &str) -> SseItem {
        event(None, data, None)
    }

    fn comment(text: &str) -> SseItem {
        SseItem::Comment(Bytes::copy_from_slice(text.as_bytes()))
    }

    /// Decodes `chunks` in order, draining after every push, then finishes.
    fn decode(chunks: &[&[u8]]) -> Vec<SseItem> {
        let mut decoder = SseDecoder::new(1 << 16);
        let mut items = Vec::new();
        for chunk in chunks {
            decoder.push(chunk).unwrap();
            items.extend(std::iter::from_fn(|| decoder.next_item()));
        }
        items.extend(std::iter::from_fn(|| decoder.finish()));
        items
    }

    /// As [`decode`], through [`SseDecoder::push_shared`].
    fn decode_shared(chunks: &[&[u8]]) -> Vec<SseItem> {
        let mut decoder = SseDecoder::new(1 << 16);
        let mut items = Vec::new();
        for chunk in chunks {
            decoder.push_shared(&Bytes::copy_from_slice(chunk)).unwrap();
            items.extend(std::iter::from_fn(|| decoder.next_item()));
        }
        items.extend(std::iter::from_fn(|| decoder.finish()));
        items
    }

    /// Decodes `input` whole, then split at every byte, and checks that all
    /// agree, through both `push` and `push_shared`.
    fn decode_all_ways(input: &[u8]) -> Vec<SseItem> {
        let whole = decode(&[input]);
        assert_eq!(decode_shared(&[input]), whole, "shared differs");
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(decode(&bytes), whole, "byte-by-byte differs");
        assert_eq!(decode_shared(&bytes), whole, "shared byte-by-byte differs");
        for split in 0..=input.len() {
            let (a, b) = input.split_at(split);
            assert_eq!(decode(&[a, b]), whole, "split at {split} differs");
            assert_eq!(
                decode_shared(&[a, b]),
                whole,
                "shared split at {split} differs"
            );
        }
        whole
    }

    #[test]
    fn line_endings() {
        let expected = vec![data("a"), data("b"), data("c")];
        assert_eq!(
            decode_all_ways(b"data: a\n\ndata: b\r\n\r\ndata: c\r\r"),
            expected
        );
        assert_eq!(
            decode_all_ways(b"data: a\r\n\ndata: b\n\r\ndata: c\r\n\r"),
            expected
        );
    }

    #[test]
    fn cr_split_from_lf() {
        assert_eq!(
            decode(&[b"data: a\r", b"\n", b"\r", b"\ndata: b\r", b"\r"]),
            vec![data("a"), data("b")]
        );
        // A lone CR at a chunk's end followed by another line, not by LF.
        assert_eq!(
            decode(&[b"data: a\r", b"data: b\r", b"\r"]),
            vec![data("a\nb")]
        );
    }

    #[test]
    fn fields() {
        let input =
            b"event: delta\nid: 42\ndata:no-space\ndata:  two spaces\nretry: 5\nunknown: x\n\n";
        assert_eq!(
            decode_all_ways(input),
            vec![event(Some("delta"), "no-space\n two spaces", Some("42"))]
        );
        // A line without a colon is a field with an empty value.
        assert_eq!(decode_all_ways(b"data\ndata\n\n"), vec![data("\n")]);
        assert_eq!(decode_all_ways(b"data:\n\n"), vec![data("")]);
        // Event type and id do not leak into the next event.
        assert_eq!(
            decode_all_ways(b"event: a\nid: 1\ndata: x\n\ndata: y\n\n"),
            vec![event(Some("a"), "x", Some("1")), data("y")]
        );
        // An id with NUL is ignored, an empty event name is the default type.
        assert_eq!(
            decode_all_ways(b"id: a\0b\nevent:\ndata: x\n\n"),
            vec![data("x")]
        );
    }

    #[test]
    fn comments_are_surfaced_in_order() {
        assert_eq!(
            decode_all_ways(b": ping\n\ndata: a\n:inside\ndata: b\n\n:\n"),
            vec![
                comment("ping"),
                comment("inside"),
                data("a\nb"),
                comment("")
            ]
        );
    }

    #[test]
    fn events_without_data_are_not_dispatched() {
        assert_eq!(
            decode_all_ways(b"event: ping\n\nid: 3\n\n\n\ndata: x\n\n"),
            vec![data("x")]
        );
    }

    #[test]
    fn done_marker() {
        let items = decode_all_ways(b"data: {\"x\":1}\n\ndata: [DONE]\n\n");
        assert!(matches!(&items[1], SseItem::Event(e) if e.is_done()));
        assert!(matches!(&items[0], SseItem::Event(e) if !e.is_done()));
    }

    #[test]
    fn missing_final_blank_line() {
        assert_eq!(
            decode_all_ways(b"data: a\n\ndata: b\n"),
            vec![data("a"), data("b")]
        );
        assert_eq!(
            decode_all_ways(b"data: a\n\ndata: b"),
            vec![data("a"), data("b")]
        );
        assert_eq!(
            decode_all_ways(b"data: a\r\n\r\n: bye"),
            vec![data("a"), comment("bye")]
        );
        let mut decoder = SseDecoder::new(100);
        decoder.push(b"data: a\n").unwrap();
        assert_eq!(decoder.next_item(), None);
        assert_eq!(decoder.finish(), Some(data("a")));
        assert_eq!(decoder.finish(), None);
    }

    #[test]
    fn single_line_data_is_not_copied() {
        let mut decoder = SseDecoder::new(1024);
        decoder.buf.reserve(64);
        let base = decoder.buf.as_ptr() as usize;
        decoder
            .push(b"data: hello\n\ndata: a\ndata: b\n\n")
            .unwrap();
        let Some(SseItem::Event(single)) = decoder.next_item() else {
            unreachable!("no event");
        };
        assert_eq!(&single.data[..], b"hello");
        assert_eq!(single.data.as_ptr() as usize, base + 6);
        let Some(SseItem::Event(joined)) = decoder.next_item() else {
            unreachable!("no event");
        };
        assert_eq!(&joined.data[..], b"a\nb");
    }

    #[test]
    fn shared_chunks_are_sliced_not_copied() {
        let chunk = Bytes::from_static(b"data: hello\n\ndata: par");
        let mut decoder = SseDecoder::new(1024);
        decoder.push_shared(&chunk).unwrap();
        let Some(SseItem::Event(event)) = decoder.next_item() else {
            unreachable!("no event");
        };
        assert_eq!(event.data.as_ptr(), chunk[6..].as_ptr());
        assert_eq!(decoder.next_item(), None);
        // The unfinished line waits in the decoder's own buffer.
        assert_eq!(decoder.buffered(), 9);
        decoder.push_shared(&Bytes::from_static(b"t\n\n")).unwrap();
        assert_eq!(decoder.next_item(), Some(data("part")));
    }

    #[test]
    fn shared_chunks_obey_the_limit() {
        let mut decoder = SseDecoder::new(16);
        let err = decoder.push_shared(&Bytes::from_static(b"data: 0123456789abcdef\n"));
        assert_eq!(err, Err(SseError::EventTooLarge { limit: 16 }));
        let mut decoder = SseDecoder::new(16);
        assert!(
            decoder
                .push_shared(&Bytes::from_static(b"data: 0123456789A"))
                .is_err()
        );
    }

    #[test]
    fn items_keep_their_order_past_the_first() {
        let mut decoder = SseDecoder::new(1024);
        decoder.push(b"data: a\n\ndata: b\n\n").unwrap();
        assert_eq!(decoder.next_item(), Some(data("a")));
        decoder.push(b"data: c\n\n").unwrap();
        assert_eq!(decoder.next_item(), Some(data("b")));
        assert_eq!(decoder.next_item(), Some(data("c")));
        decoder.push(b"data: d\n\n").unwrap();
        assert_eq!(decoder.next_item(), Some(data("d")));
        assert_eq!(decoder.next_item(), None);
    }

    #[test]
    fn limit_is_enforced() {
        let mut decoder = SseDecoder::new(16);
        decoder.push(b"data: 0123456789\n").unwrap();
        assert_eq!(decoder.buffered(), 16);
        assert_eq!(
            decoder.push(b"data: x\n"),
            Err(SseError::EventTooLarge { limit: 16 })
        );
        assert_eq!(
            decoder.push(b"\n"),
            Err(SseError::EventTooLarge { limit: 16 })
        );
        assert_eq!(decoder.finish(), None);

        // An unfinished line counts too: a stream that never ends a line is cut off.
        let mut decoder = SseDecoder::new(16);
        decoder.push(b"data: 0123456789").unwrap();
        assert!(decoder.push(b"A").is_err());

        // Blank lines reset the count, and earlier items survive an error.
        let mut decoder = SseDecoder::new(16);
        decoder
            .push(b"data: 0123456789\n\ndata: 0123456789\n\n")
            .unwrap();
        assert!(decoder.push(b"data: 0123456789abcdef\n").is_err());
        assert_eq!(decoder.next_item(), Some(data("0123456789")));
        assert_eq!(decoder.next_item(), Some(data("0123456789")));
        assert_eq!(decoder.next_item(), None);
    }

    #[test]
    fn many_events_in_one_large_chunk_are_fine() {
        let chunk = b"data: 0123456789\n\n".repeat(1000);
        let mut decoder = SseDecoder::new(32);
        decoder.push(&chunk).unwrap();
        assert_eq!(std::iter::from_fn(|| decoder.next_item()).count(), 1000);
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn between_events_only_when_nothing_of_a_next_event_is_held() {
        let held = [
            &b"data: a"[..],
            b"data: a\n",
            b"event: x\n",
            b"id: 1\n",
            b": ping\n",
            b"data: a\r",
            b"data: a\n\n",
        ];
        for input in held {
            let mut decoder = SseDecoder::new(1 << 10);
            decoder.push(input).unwrap();
            assert!(!decoder.is_between_events(), "{input:?}");
        }
        let mut decoder = SseDecoder::new(1 << 10);
        decoder.push(b"data: a\n\n: ping\n\n").unwrap();
        while decoder.next_item().is_some() {}
        assert!(decoder.is_between_events());
        // A `\r` ending the input may be half of a `\r\n`.
        decoder.push(b"data: a\n\r").unwrap();
        while decoder.next_item().is_some() {}
        assert!(!decoder.is_between_events());
        decoder.push(b"\n").unwrap();
        assert!(decoder.is_between_events());
        let mut failed = SseDecoder::new(4);
        assert!(failed.push(b"data: 0123456789\n").is_err());
        assert!(!failed.is_between_events());
    }
}
