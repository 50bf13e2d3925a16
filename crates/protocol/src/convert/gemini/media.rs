//! Media parts: Gemini `inlineData` / `fileData` ⇄ canonical image, audio
//! and document parts.
//!
//! Decoding picks the part kind from the MIME type (`image/*` → image,
//! `audio/*` → audio, anything else — PDF, video, text — → document).
//! Encoding sends inline data as `inlineData`; URLs as `fileData` when
//! Gemini can read them (`gs://`, Files API URIs, and `http(s)://` when
//! [`GeminiRequestOptions::http_urls_as_file_data`] is set), with the MIME
//! type guessed from the file extension (else `image/jpeg`, `audio/mpeg`
//! or `application/pdf` by part kind). Other URLs were supposed to be
//! fetched and inlined by the gateway; if not, they become a text part
//! `[image: <url>]` so the request still succeeds.

use serde_json::Map;

use super::GeminiRequestOptions;
use crate::gemini::{Blob, FileData, Part};
use crate::ir::{AudioPart, DocumentPart, ImagePart, MediaSource, Part as IrPart};

/// Which canonical part a media source belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MediaKind {
    Image,
    Audio,
    Document,
}

impl MediaKind {
    fn label(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Document => "document",
        }
    }

    fn default_mime(self) -> &'static str {
        match self {
            Self::Image => "image/jpeg",
            Self::Audio => "audio/mpeg",
            Self::Document => "application/pdf",
        }
    }
}

/// A canonical media part for a MIME type and source.
pub(super) fn media_to_ir(mime: &str, source: MediaSource) -> IrPart {
    let mime = mime.to_ascii_lowercase();
    if mime.starts_with("image/") {
        IrPart::Image(ImagePart {
            source,
            detail: None,
            cache_control: None,
        })
    } else if let Some(sub) = mime.strip_prefix("audio/") {
        let format = match sub {
            "mpeg" | "mp3" => "mp3",
            "wav" | "x-wav" | "wave" => "wav",
            other => other,
        };
        IrPart::Audio(AudioPart {
            source,
            format: Some(format.to_owned()),
        })
    } else {
        IrPart::Document(DocumentPart {
            source,
            filename: None,
            title: None,
            context: None,
            cache_control: None,
        })
    }
}

/// `inlineData` → canonical.
pub(super) fn blob_to_ir(blob: Blob) -> IrPart {
    let mime = if blob.mime_type.is_empty() {
        "application/octet-stream".to_owned()
    } else {
        blob.mime_type
    };
    media_to_ir(
        &mime.clone(),
        MediaSource::Base64 {
            media_type: mime,
            data: blob.data,
        },
    )
}

/// `fileData` → canonical (the URI as a URL source).
pub(super) fn file_to_ir(file: FileData) -> IrPart {
    let mime = file
        .mime_type
        .clone()
        .or_else(|| guess_mime(&file.file_uri).map(str::to_owned))
        .unwrap_or_default();
    media_to_ir(&mime, MediaSource::Url(file.file_uri))
}

/// A canonical media source as a Gemini part.
pub(super) fn media_to_gemini(
    source: &MediaSource,
    kind: MediaKind,
    opts: &GeminiRequestOptions,
) -> Part {
    match source {
        MediaSource::Base64 { media_type, data } => Part {
            inline_data: Some(Blob {
                mime_type: if media_type.is_empty() {
                    kind.default_mime().to_owned()
                } else {
                    media_type.clone()
                },
                data: data.clone(),
                extra: Map::new(),
            }),
            ..Part::default()
        },
        MediaSource::Text { text, .. } => Part::text(text.clone()),
        MediaSource::Url(uri) | MediaSource::FileId(uri) if readable_uri(uri, opts) => Part {
            file_data: Some(FileData {
                mime_type: Some(
                    guess_mime(uri)
                        .unwrap_or_else(|| kind.default_mime())
                        .to_owned(),
                ),
                file_uri: uri.clone(),
                extra: Map::new(),
            }),
            ..Part::default()
        },
        MediaSource::Url(uri) | MediaSource::FileId(uri) => {
            Part::text(format!("[{}: {uri}]", kind.label()))
        }
    }
}

/// Whether Gemini can read `uri` itself.
fn readable_uri(uri: &str, opts: &GeminiRequestOptions) -> bool {
    let lower = uri.to_ascii_lowercase();
    lower.starts_with("gs://")
        || lower.starts_with("https://generativelanguage.googleapis.com/")
        || lower.starts_with("files/")
        || (opts.http_urls_as_file_data
            && (lower.starts_with("https://") || lower.starts_with("http://")))
}

/// A MIME type from a file extension, for the common media types.
fn guess_mime(uri: &str) -> Option<&'static str> {
    let path = uri.split(['?', '#']).next().unwrap_or(uri);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "flac" => "audio/flac",
        "aac" => "audio/aac",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let opts = GeminiRequestOptions::default();
        let gs = media_to_gemini(
            &MediaSource::Url("gs://b/cat.png".into()),
            MediaKind::Image,
            &opts,
        );
        assert_eq!(
            gs.file_data.unwrap().mime_type.as_deref(),
            Some("image/png")
        );
        let http = MediaSource::Url("https://x/y?z=1".into());
        assert_eq!(
            media_to_gemini(&http, MediaKind::Image, &opts)
                .text
                .as_deref(),
            Some("[image: https://x/y?z=1]")
        );
        let allowed = GeminiRequestOptions {
            http_urls_as_file_data: true,
            ..opts
        };
        let part = media_to_gemini(&http, MediaKind::Image, &allowed);
        assert_eq!(
            part.file_data.unwrap().mime_type.as_deref(),
            Some("image/jpeg")
        );
    }

    #[test]
    fn kinds_from_mime() {
        let src = || MediaSource::Url("u".into());
        assert!(matches!(media_to_ir("image/webp", src()), IrPart::Image(_)));
        assert!(
            matches!(media_to_ir("audio/mpeg", src()), IrPart::Audio(a) if a.format.as_deref() == Some("mp3"))
        );
        assert!(matches!(
            media_to_ir("video/mp4", src()),
            IrPart::Document(_)
        ));
    }
}
