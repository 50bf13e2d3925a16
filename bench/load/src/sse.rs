//! Counting server-sent events in a byte stream that arrives in arbitrary pieces.
//!
//! An event ends at a blank line. Lines end with `\n`, `\r\n` or `\r` (a `\r\n` split
//! across two reads is still one line end). A block made only of comment lines
//! (`: keep-alive`) is not an event, matching what an SSE client would dispatch.

use memchr::memchr2;

/// Incremental SSE event counter.
#[derive(Debug, Default, Clone)]
pub struct EventCounter {
    line_len: usize,
    line_is_comment: bool,
    block_has_fields: bool,
    after_cr: bool,
    events: u64,
}

impl EventCounter {
    /// A counter at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next piece of the stream; returns the number of events it completed.
    pub fn feed(&mut self, mut data: &[u8]) -> u64 {
        let before = self.events;
        while !data.is_empty() {
            match memchr2(b'\r', b'\n', data) {
                None => {
                    self.text(data);
                    break;
                }
                Some(at) => {
                    self.text(&data[..at]);
                    let eol = data[at];
                    if eol == b'\n' && self.after_cr {
                        // second half of a \r\n: the line already ended at the \r
                        self.after_cr = false;
                    } else {
                        self.end_line();
                        self.after_cr = eol == b'\r';
                    }
                    data = &data[at + 1..];
                }
            }
        }
        self.events - before
    }

    /// Events completed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    fn text(&mut self, segment: &[u8]) {
        let Some(&first) = segment.first() else {
            return;
        };
        if self.line_len == 0 {
            self.line_is_comment = first == b':';
        }
        self.line_len += segment.len();
        self.after_cr = false;
    }

    fn end_line(&mut self) {
        if self.line_len == 0 {
            if self.block_has_fields {
                self.block_has_fields = false;
                self.events += 1;
            }
        } else {
            if !self.line_is_comment {
                self.block_has_fields = true;
            }
            self.line_len = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENAI: &[u8] = b"data: {\"a\":1}\n\ndata: {\"b\":2}\n\n: keep-alive\n\ndata: [DONE]\n\n";
    const ANTHROPIC: &[u8] =
        b"event: message_start\ndata: {}\n\nevent: content_block_delta\ndata: {}\n\nevent: message_stop\ndata: {}\n\n";
    const GEMINI: &[u8] = b"data: {\"x\":1}\r\n\r\ndata: {\"x\":2}\r\n\r\n";
    const CR_ONLY: &[u8] = b"data: 1\r\rdata: 2\r\r";

    fn count_in_pieces(stream: &[u8], cuts: &[usize]) -> u64 {
        let mut c = EventCounter::new();
        let mut last = 0;
        let mut total = 0;
        for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
            total += c.feed(&stream[last..cut]);
            last = cut;
        }
        assert_eq!(total, c.events());
        total
    }

    #[test]
    fn counts_whole_streams() {
        assert_eq!(count_in_pieces(OPENAI, &[]), 3);
        assert_eq!(count_in_pieces(ANTHROPIC, &[]), 3);
        assert_eq!(count_in_pieces(GEMINI, &[]), 2);
        assert_eq!(count_in_pieces(CR_ONLY, &[]), 2);
    }

    #[test]
    fn any_split_point_gives_the_same_count() {
        for (stream, expected) in [(OPENAI, 3), (ANTHROPIC, 3), (GEMINI, 2), (CR_ONLY, 2)] {
            for a in 0..=stream.len() {
                assert_eq!(count_in_pieces(stream, &[a]), expected, "cut at {a}");
                for b in a..=stream.len() {
                    assert_eq!(
                        count_in_pieces(stream, &[a, b]),
                        expected,
                        "cuts at {a},{b}"
                    );
                }
            }
        }
    }

    #[test]
    fn byte_at_a_time() {
        let cuts: Vec<usize> = (1..GEMINI.len()).collect();
        assert_eq!(count_in_pieces(GEMINI, &cuts), 2);
        let cuts: Vec<usize> = (1..OPENAI.len()).collect();
        assert_eq!(count_in_pieces(OPENAI, &cuts), 3);
    }

    #[test]
    fn unterminated_last_event_is_not_counted() {
        assert_eq!(count_in_pieces(b"data: 1\n\ndata: 2\n", &[]), 1);
        assert_eq!(count_in_pieces(b"\n\n\n\n", &[]), 0);
    }
}
