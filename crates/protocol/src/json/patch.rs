//! Byte-level patches: a set of non-overlapping edits applied to a body in
//! one pass with one allocation.
//!
//! This is how a same-protocol request is rewritten on its way upstream: the
//! adaptor records a few edits (the `model` value, an inserted
//! `stream_options`) against the scanned body, and [`Patch::apply`] copies the
//! untouched bytes around them exactly once.

use std::ops::Range;

use bytes::Bytes;

use super::ObjectScan;
use super::members::ObjectEdit;

/// Why a patch could not be built or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatchError {
    /// An edit range whose end comes before its start.
    #[error("patch range {start}..{end} is reversed")]
    Reversed {
        /// Start of the range.
        start: usize,
        /// End of the range.
        end: usize,
    },
    /// Two edits touch the same bytes (or an insertion falls inside a replacement).
    #[error("patch edits {first:?} and {second:?} overlap")]
    Overlap {
        /// The earlier edit's range.
        first: Range<usize>,
        /// The later edit's range.
        second: Range<usize>,
    },
    /// An edit reaches past the end of the body it is applied to.
    #[error("patch edit {range:?} lies outside the {len}-byte body")]
    OutOfBounds {
        /// The edit's range.
        range: Range<usize>,
        /// Length of the body.
        len: usize,
    },
}

/// One edit: replace `range` with `bytes` (an insertion has an empty range).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Edit {
    pub(super) range: Range<usize>,
    pub(super) bytes: Bytes,
}

/// A set of edits against one body, applied together by [`Patch::apply`].
///
/// Raw edits ([`replace`](Self::replace), [`insert`](Self::insert)) may be
/// added in any order but must not overlap; several insertions at the same
/// offset are applied in the order they were added, before a replacement that
/// starts there. Member edits ([`set_member`](super::set_member),
/// [`remove_member`](super::remove_member)) are kept per object and turned
/// into byte edits only when the patch is applied, so they compose in any
/// order: removing two neighbours, or removing every member and then adding
/// one, still yields valid JSON.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    edits: Vec<Edit>,
    objects: Vec<ObjectEdit>,
}

impl Patch {
    /// An empty patch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the bytes in `range` with `bytes`.
    pub fn replace(
        &mut self,
        range: Range<usize>,
        bytes: impl Into<Bytes>,
    ) -> Result<(), PatchError> {
        if range.start > range.end {
            return Err(PatchError::Reversed {
                start: range.start,
                end: range.end,
            });
        }
        if let Some(existing) = self.edits.iter().find(|edit| overlaps(&edit.range, &range)) {
            return Err(PatchError::Overlap {
                first: existing.range.clone(),
                second: range,
            });
        }
        self.edits.push(Edit {
            range,
            bytes: bytes.into(),
        });
        Ok(())
    }

    /// Inserts `bytes` before the byte at offset `at`.
    pub fn insert(&mut self, at: usize, bytes: impl Into<Bytes>) -> Result<(), PatchError> {
        self.replace(at..at, bytes)
    }

    /// Whether the patch changes nothing (then forward the original body).
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty() && self.objects.iter().all(ObjectEdit::is_noop)
    }

    /// Applies every edit to `body` and returns the result, allocated once at
    /// its exact size.
    ///
    /// Fails if edits overlap (for instance a raw replacement over a member
    /// that [`set_member`](super::set_member) also changed) or reach past the
    /// end of `body`.
    pub fn apply(&self, body: &[u8]) -> Result<Bytes, PatchError> {
        let mut edits = self.edits.clone();
        for object in &self.objects {
            object.materialize(&mut edits);
        }
        // Stable: insertions at one offset keep their order, and sort before a
        // replacement starting at the same offset.
        edits.sort_by_key(|edit| (edit.range.start, edit.range.end));
        // The edit reaching furthest so far; anything starting before its end overlaps it.
        let mut reach: Option<&Range<usize>> = None;
        for edit in &edits {
            if let Some(previous) = reach.filter(|previous| edit.range.start < previous.end) {
                return Err(PatchError::Overlap {
                    first: previous.clone(),
                    second: edit.range.clone(),
                });
            }
            if edit.range.end > body.len() {
                return Err(PatchError::OutOfBounds {
                    range: edit.range.clone(),
                    len: body.len(),
                });
            }
            if reach.is_none_or(|previous| edit.range.end >= previous.end) {
                reach = Some(&edit.range);
            }
        }
        Ok(splice(body, &edits))
    }

    /// The member edits for the object `scan` describes, created on first use.
    pub(super) fn object_edit(&mut self, scan: &ObjectScan) -> &mut ObjectEdit {
        let index = match self
            .objects
            .iter()
            .position(|object| object.open() == scan.open())
        {
            Some(index) => index,
            None => {
                self.objects.push(ObjectEdit::new(scan));
                self.objects.len() - 1
            }
        };
        &mut self.objects[index]
    }
}

/// Whether two edits touch the same bytes. Insertions (empty ranges) overlap
/// only a replacement that strictly contains their offset.
fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Builds `body` with `edits` (sorted, non-overlapping, in bounds) applied.
pub(super) fn splice(body: &[u8], edits: &[Edit]) -> Bytes {
    let removed: usize = edits.iter().map(|edit| edit.range.len()).sum();
    let added: usize = edits.iter().map(|edit| edit.bytes.len()).sum();
    let mut out = Vec::with_capacity((body.len() + added).saturating_sub(removed));
    let mut pos = 0;
    for edit in edits {
        out.extend_from_slice(body.get(pos..edit.range.start).unwrap_or_default());
        out.extend_from_slice(&edit.bytes);
        pos = pos.max(edit.range.end);
    }
    out.extend_from_slice(body.get(pos..).unwrap_or_default());
    Bytes::from(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn applied(patch: &Patch, body: &str) -> String {
        String::from_utf8(patch.apply(body.as_bytes()).unwrap().to_vec()).unwrap()
    }

    #[test]
    fn empty_patch_copies() {
        let patch = Patch::new();
        assert!(patch.is_empty());
        assert_eq!(applied(&patch, "abc"), "abc");
    }

    #[test]
    fn edits_apply_in_offset_order() {
        let mut patch = Patch::new();
        patch.replace(6..9, "XYZ").unwrap();
        patch.insert(0, "<").unwrap();
        patch.insert(3, "1").unwrap();
        patch.insert(3, "2").unwrap();
        patch.replace(3..4, "_").unwrap();
        patch.insert(10, ">").unwrap();
        assert!(!patch.is_empty());
        assert_eq!(applied(&patch, "abcdefghij"), "<abc12_efXYZj>");
    }

    #[test]
    fn result_is_sized_exactly() {
        let mut patch = Patch::new();
        patch.replace(1..4, "").unwrap();
        patch.insert(5, "123456").unwrap();
        let out = patch.apply(b"abcdefgh").unwrap();
        assert_eq!(&out[..], b"ae123456fgh");
    }

    #[test]
    fn overlaps_and_bad_ranges_are_refused() {
        let mut patch = Patch::new();
        patch.replace(2..5, "x").unwrap();
        assert_eq!(
            patch.replace(4..6, "y"),
            Err(PatchError::Overlap {
                first: 2..5,
                second: 4..6
            })
        );
        assert!(patch.insert(3, "y").is_err());
        assert!(patch.insert(2, "y").is_ok());
        assert!(patch.insert(5, "y").is_ok());
        assert!(patch.replace(5..7, "y").is_ok());
        let reversed = patch.replace(Range { start: 9, end: 8 }, "y");
        assert_eq!(reversed, Err(PatchError::Reversed { start: 9, end: 8 }));
        assert_eq!(
            patch.apply(b"abc"),
            Err(PatchError::OutOfBounds {
                range: 2..5,
                len: 3
            })
        );
    }
}
