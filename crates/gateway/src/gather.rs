//! Gathering a body's chunks into one `Bytes`: the request bodies the
//! ingress reads before relaying, and the upstream answers the relay reads
//! whole. A body that arrives as one chunk (most do) is kept as it is,
//! without a copy; more chunks are copied once into one buffer.

use bytes::Bytes;

/// The chunks of a body read so far.
#[derive(Debug, Default)]
pub struct Gathered {
    first: Option<Bytes>,
    joined: Vec<u8>,
}

impl Gathered {
    /// Bytes gathered so far.
    pub fn len(&self) -> usize {
        self.first.as_ref().map_or(0, Bytes::len) + self.joined.len()
    }

    /// True when nothing has been gathered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Add the next chunk.
    pub fn push(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        match self.first.take() {
            None if self.joined.is_empty() => self.first = Some(chunk),
            Some(first) => {
                self.joined.reserve(first.len() + chunk.len());
                self.joined.extend_from_slice(&first);
                self.joined.extend_from_slice(&chunk);
            }
            None => self.joined.extend_from_slice(&chunk),
        }
    }

    /// The whole body.
    pub fn into_bytes(self) -> Bytes {
        self.first.unwrap_or_else(|| Bytes::from(self.joined))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_chunk_is_kept_as_it_is_and_more_are_joined_in_order() {
        let empty = Gathered::default();
        assert!(empty.is_empty());
        assert_eq!(empty.into_bytes(), Bytes::new());

        let chunk = Bytes::from_static(b"whole");
        let mut one = Gathered::default();
        one.push(Bytes::new());
        one.push(chunk.clone());
        one.push(Bytes::new());
        assert_eq!(one.len(), 5);
        let kept = one.into_bytes();
        assert_eq!(kept.as_ptr(), chunk.as_ptr(), "not copied");

        let mut three = Gathered::default();
        for part in ["ab", "", "cd", "e"] {
            three.push(Bytes::from(part));
        }
        assert_eq!(three.len(), 5);
        assert_eq!(three.into_bytes(), Bytes::from_static(b"abcde"));
    }
}
