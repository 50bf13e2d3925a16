//! Reading back a whole event stream from its bytes, for the few answers
//! that need it after the fact (the output text of a stream whose upstream
//! reported no usage, read from what the client was sent).

use super::{SseDecoder, SseEvent, SseItem};

/// Calls `on_event` for every event of the stream made of `pieces` (in
/// order, split anywhere), the last one included when it lacks its blank
/// line. Comments are skipped. An event larger than `max_event_bytes` ends
/// the reading there.
pub fn replay_events<'a>(
    pieces: impl IntoIterator<Item = &'a [u8]>,
    max_event_bytes: usize,
    mut on_event: impl FnMut(&SseEvent),
) {
    let mut decoder = SseDecoder::new(max_event_bytes);
    let mut read = |item: SseItem| {
        if let SseItem::Event(event) = item {
            on_event(&event);
        }
    };
    for piece in pieces {
        let pushed = decoder.push(piece);
        while let Some(item) = decoder.next_item() {
            read(item);
        }
        if pushed.is_err() {
            return;
        }
    }
    while let Some(item) = decoder.finish() {
        read(item);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn datas(pieces: &[&str], max: usize) -> Vec<String> {
        let mut seen = Vec::new();
        replay_events(pieces.iter().map(|p| p.as_bytes()), max, |e| {
            seen.push(String::from_utf8(e.data.to_vec()).unwrap());
        });
        seen
    }

    #[test]
    fn every_event_is_read_whatever_the_split_and_comments_are_skipped() {
        let pieces = ["data: a\n", "\n: ping\n\nevent: x\nda", "ta: b\n\ndata: c"];
        assert_eq!(datas(&pieces, 1024), ["a", "b", "c"]);
    }

    #[test]
    fn an_oversized_event_ends_the_reading() {
        let pieces = ["data: a\n\n", "data: 0123456789abcdef\n\n", "data: b\n\n"];
        assert_eq!(datas(&pieces, 8), ["a"]);
    }
}
