//! What a streamed response has already sent to its client, kept by
//! reference. The chunks handed to the connection are shared `Bytes`, so
//! keeping them for the log detail and for usage estimation costs a
//! reference count per chunk, not a second and a third copy of every event
//! in per-stream buffers that are out of the CPU's cache by the next event.
//!
//! [`super::stream::StreamRelay`] records each chunk as it goes out. At the
//! end the captured prefix goes to the log detail and, when the upstream
//! reported no usage, the processor reads the output text back from the
//! chunks to estimate it.
//!
//! A chunk forwarded unchanged is a slice of the upstream connection's read
//! buffer. Holding it would stop the connection from reusing that buffer, so
//! each read would take a fresh one and every kept chunk would pin a whole
//! buffer; such a chunk is kept as a copy instead
//! ([`SentChunks::record_borrowed`]).

use bytes::{Bytes, BytesMut};

/// Chunks a stream is expected to keep: its first allocation, so a typical
/// answer does not grow the list several times over.
const EXPECTED_CHUNKS: usize = 64;

/// Room a stream's buffer is given at a time. Chunks cut from it and kept
/// (output sent, copies of borrowed chunks) share it, so once one is kept
/// the next event needs fresh memory: a block of events costs one
/// allocation instead of one each.
const BLOCK: usize = 4096;

/// Make room for `need` more bytes in `buf`, a whole `BLOCK` at a time.
pub fn reserve_in_blocks(buf: &mut BytesMut, need: usize) {
    if buf.capacity() - buf.len() < need {
        buf.reserve(need.max(BLOCK));
    }
}

/// The chunks of one client stream that are still needed.
#[derive(Debug, Default)]
pub struct SentChunks {
    chunks: Vec<Bytes>,
    /// Bytes recorded while the capture had room.
    captured: usize,
    /// The log detail keeps this many leading bytes (`None`: all of them).
    capture_limit: Option<usize>,
    /// How many leading chunks cover the capture.
    capture_chunks: usize,
    /// The block that copies of borrowed chunks are cut from.
    copies: BytesMut,
}

impl SentChunks {
    /// Keep what a log detail capped at `capture_limit` bytes needs.
    pub fn new(capture_limit: Option<usize>) -> Self {
        Self {
            capture_limit,
            ..Self::default()
        }
    }

    /// Record a chunk sent to the client. It is kept while the capture has
    /// room, or when `for_estimate` is set (the whole output will be read
    /// back to estimate usage); without it, chunks kept only for the
    /// estimate are let go.
    pub fn record(&mut self, chunk: &Bytes, for_estimate: bool) {
        if self.keeps(chunk.len(), for_estimate) {
            self.push(chunk.clone());
        }
    }

    /// [`Self::record`] for a chunk that shares another owner's buffer (an
    /// upstream read): what is kept is a copy, so that buffer is free to be
    /// reused as soon as the chunk is written.
    pub fn record_borrowed(&mut self, chunk: &[u8], for_estimate: bool) {
        if !self.keeps(chunk.len(), for_estimate) {
            return;
        }
        reserve_in_blocks(&mut self.copies, chunk.len());
        self.copies.extend_from_slice(chunk);
        let copy = self.copies.split().freeze();
        self.push(copy);
    }

    /// Whether a chunk of `len` bytes is to be kept; lets go of the chunks
    /// kept only for the estimate once `for_estimate` is off.
    fn keeps(&mut self, len: usize, for_estimate: bool) -> bool {
        if self.capture_limit.is_none_or(|limit| self.captured < limit) {
            self.captured += len;
            self.capture_chunks = self.chunks.len() + 1;
            return true;
        }
        if !for_estimate {
            self.chunks.truncate(self.capture_chunks);
        }
        for_estimate
    }

    fn push(&mut self, chunk: Bytes) {
        if self.chunks.capacity() == 0 {
            self.chunks.reserve_exact(EXPECTED_CHUNKS);
        }
        self.chunks.push(chunk);
    }

    /// The output sent so far followed by `unsent` (output produced but not
    /// yet handed over, such as a closing error event), complete as long as
    /// every chunk was recorded `for_estimate`.
    pub fn output<'a>(&'a self, unsent: &'a [u8]) -> Vec<&'a [u8]> {
        let sent = self.chunks.iter().map(|chunk| &chunk[..]);
        sent.chain([unsent]).collect()
    }

    /// The log detail's copy of the response: its leading bytes, sent or
    /// still `unsent`, up to the capture limit.
    pub fn capture(&self, unsent: &[u8]) -> Bytes {
        let captured = self.chunks.iter().take(self.capture_chunks);
        let pieces = || captured.clone().map(|chunk| &chunk[..]).chain([unsent]);
        let whole = pieces().map(<[u8]>::len).sum::<usize>();
        let size = self.capture_limit.map_or(whole, |limit| whole.min(limit));
        let mut out = BytesMut::with_capacity(size);
        for piece in pieces() {
            let room = size - out.len();
            if room == 0 {
                break;
            }
            out.extend_from_slice(&piece[..room.min(piece.len())]);
        }
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_all(sent: &mut SentChunks, chunks: &[&'static str], for_estimate: bool) {
        for chunk in chunks {
            sent.record(&Bytes::from_static(chunk.as_bytes()), for_estimate);
        }
    }

    fn joined(pieces: &[&[u8]]) -> String {
        String::from_utf8(pieces.concat()).unwrap()
    }

    #[test]
    fn capture_is_the_leading_bytes_of_sent_and_unsent_output() {
        let mut sent = SentChunks::new(Some(7));
        record_all(&mut sent, &["abc", "def", "ghi"], false);
        assert_eq!(sent.capture(b"tail"), "abcdefg");
        assert_eq!(
            joined(&sent.output(b"")),
            "abcdefghi",
            "the chunk that reached the limit stays whole"
        );

        let mut short = SentChunks::new(Some(7));
        record_all(&mut short, &["ab"], false);
        assert_eq!(
            short.capture(b"cdefghij"),
            "abcdefg",
            "unsent output fills the rest"
        );
    }

    #[test]
    fn estimate_keeps_everything_until_usage_then_only_the_capture() {
        let mut sent = SentChunks::new(Some(4));
        record_all(&mut sent, &["ab", "cd", "ef", "gh"], true);
        assert_eq!(joined(&sent.output(b"ij")), "abcdefghij");
        assert_eq!(sent.capture(b"ij"), "abcd");

        record_all(&mut sent, &["kl"], false);
        assert_eq!(
            joined(&sent.output(b"")),
            "abcd",
            "usage arrived: the rest is let go"
        );
        assert_eq!(sent.capture(b""), "abcd");
    }

    #[test]
    fn unlimited_and_disabled_captures() {
        let mut all = SentChunks::new(None);
        record_all(&mut all, &["ab", "cd"], false);
        assert_eq!(all.capture(b"e"), "abcde");

        let mut none = SentChunks::new(Some(0));
        record_all(&mut none, &["ab", "cd"], false);
        assert_eq!(
            (none.capture(b"e"), none.output(b"").len()),
            (Bytes::new(), 1)
        );
        record_all(&mut none, &["ef"], true);
        assert_eq!(joined(&none.output(b"")), "ef");
    }

    #[test]
    fn kept_chunks_share_the_sent_buffer() {
        let mut sent = SentChunks::new(None);
        let chunk = Bytes::from(b"shared".to_vec());
        sent.record(&chunk, false);
        assert_eq!(sent.output(b"")[0].as_ptr(), chunk.as_ptr(), "no copy");
    }

    #[test]
    fn borrowed_chunks_are_kept_as_copies_by_the_same_rules() {
        let mut sent = SentChunks::new(Some(4));
        let upstream = Bytes::from(b"abcdefgh".to_vec());
        sent.record_borrowed(&upstream[..2], true);
        sent.record_borrowed(&upstream[2..4], false);
        sent.record_borrowed(&upstream[4..6], true);
        sent.record(&Bytes::from_static(b"ij"), true);
        assert_eq!(joined(&sent.output(b"")), "abcdefij");
        assert_eq!(sent.capture(b""), "abcd");
        let kept = sent.output(b"");
        let buffer = upstream.as_ptr_range();
        assert!(
            kept[..3]
                .iter()
                .all(|piece| !buffer.contains(&piece.as_ptr())),
            "copies, not slices of the upstream's buffer"
        );
        drop(kept);
        sent.record_borrowed(&upstream[6..], false);
        assert_eq!(joined(&sent.output(b"")), "abcd", "estimate let go");
    }
}
