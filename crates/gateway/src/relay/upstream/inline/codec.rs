//! HTTP/1.1 on the wire for the inline pool, without I/O: the request head
//! it writes, the response head it reads, and the response body's framing
//! (`content-length`, `chunked`, or until the connection closes).
//!
//! A streamed answer is one small chunk per event, so the chunked decoder
//! is the hot path: it finds a size line with one `memchr` and hands the
//! chunk's data out as a slice of the read buffer, without copying it.

use std::mem::MaybeUninit;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};
use thiserror::Error;

/// `Keep-Alive` (not a constant of the `http` crate: HTTP/2 forbids it).
const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
/// The longest response head accepted.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most header fields a response head may have.
const MAX_HEADERS: usize = 128;
/// The longest chunk-size or trailer line accepted.
const MAX_LINE_BYTES: usize = 4096;

/// An upstream that does not speak HTTP/1 as this client reads it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(super) enum WireError {
    /// The response head is malformed.
    #[error("invalid response head: {0}")]
    Head(String),
    /// The response head is longer than [`MAX_HEAD_BYTES`].
    #[error("response head is longer than {MAX_HEAD_BYTES} bytes")]
    HeadTooLong,
    /// The response asks to switch protocols, which this client never asks for.
    #[error("unexpected 101 Switching Protocols")]
    Upgrade,
    /// The chunked body is malformed.
    #[error("invalid chunked body: {0}")]
    Chunked(&'static str),
    /// The connection closed before the body's end.
    #[error("upstream closed the connection before the body ended")]
    Truncated,
}

/// Write the head of `method target` with `headers` for a body of
/// `body_len` bytes: `content-length` is set from the body (any
/// `transfer-encoding` is dropped, the body being whole), and `Host` from
/// `authority` when the headers lack it.
pub(super) fn encode_request_head(
    method: &Method,
    target: &str,
    authority: &str,
    headers: &HeaderMap,
    body_len: usize,
) -> BytesMut {
    let fields: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    let mut head = BytesMut::with_capacity(target.len() + fields + authority.len() + 64);
    head.extend_from_slice(method.as_str().as_bytes());
    head.extend_from_slice(b" ");
    head.extend_from_slice(target.as_bytes());
    head.extend_from_slice(b" HTTP/1.1\r\n");
    if !headers.contains_key(HOST) {
        put_field(&mut head, HOST.as_str(), authority.as_bytes());
    }
    for (name, value) in headers {
        if name != CONTENT_LENGTH && name != TRANSFER_ENCODING {
            put_field(&mut head, name.as_str(), value.as_bytes());
        }
    }
    if body_len > 0 || !matches!(*method, Method::GET | Method::HEAD | Method::DELETE) {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(body_len);
        put_field(&mut head, CONTENT_LENGTH.as_str(), digits.as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    head
}

fn put_field(head: &mut BytesMut, name: &str, value: &[u8]) {
    head.extend_from_slice(name.as_bytes());
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
}

/// A response head, and how its body is framed.
#[derive(Debug)]
pub(super) struct ResponseHead {
    /// Status (never 1xx: informational heads are skipped).
    pub status: StatusCode,
    /// Header fields.
    pub headers: HeaderMap,
    /// How the body is delimited.
    pub body: BodyDecoder,
    /// Whether the connection may carry another request after this body.
    pub keep_alive: bool,
    /// How long the upstream says it keeps the connection open while idle
    /// (`Keep-Alive: timeout=N`), when it says so.
    pub keep_alive_timeout: Option<Duration>,
}

/// Take the final response head from the front of `buf` once it is all
/// there (`None`: read more). Informational (1xx) heads before it are
/// consumed and dropped. `method` is the request's: a `HEAD` answer has no
/// body.
pub(super) fn parse_response_head(
    buf: &mut BytesMut,
    method: &Method,
) -> Result<Option<ResponseHead>, WireError> {
    let parser = httparse::ParserConfig::default();
    loop {
        if buf.is_empty() {
            return Ok(None);
        }
        // Left uninitialised: httparse writes only the fields it finds, and
        // zeroing all of them costs more than parsing a short head.
        let mut fields = [const { MaybeUninit::uninit() }; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut []);
        let head_len =
            match parser.parse_response_with_uninit_headers(&mut response, buf, &mut fields) {
                Ok(httparse::Status::Complete(len)) => len,
                Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
                    return Err(WireError::HeadTooLong);
                }
                Ok(httparse::Status::Partial) => return Ok(None),
                Err(e) => return Err(WireError::Head(e.to_string())),
            };
        let code = response.code.unwrap_or_default();
        let status = StatusCode::from_u16(code).map_err(|e| WireError::Head(e.to_string()))?;
        if status == StatusCode::SWITCHING_PROTOCOLS {
            return Err(WireError::Upgrade);
        }
        if status.is_informational() {
            buf.advance(head_len);
            continue;
        }
        let version = match response.version {
            Some(1) => Version::HTTP_11,
            _ => Version::HTTP_10,
        };
        let headers = header_map(response.headers)?;
        buf.advance(head_len);
        let body = framing(status, method, &headers)?;
        let keep_alive = version == Version::HTTP_11
            && !has_token(&headers, &CONNECTION, "close")
            && !matches!(body, BodyDecoder::UntilClose);
        let keep_alive_timeout = keep_alive_timeout(&headers);
        return Ok(Some(ResponseHead {
            status,
            headers,
            body,
            keep_alive,
            keep_alive_timeout,
        }));
    }
}

fn header_map(fields: &[httparse::Header<'_>]) -> Result<HeaderMap, WireError> {
    let mut headers = HeaderMap::with_capacity(fields.len());
    for field in fields {
        let name = HeaderName::from_bytes(field.name.as_bytes())
            .map_err(|e| WireError::Head(e.to_string()))?;
        let value =
            HeaderValue::from_bytes(field.value).map_err(|e| WireError::Head(e.to_string()))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// RFC 9112 §6.3: how the body of this response ends.
fn framing(
    status: StatusCode,
    method: &Method,
    headers: &HeaderMap,
) -> Result<BodyDecoder, WireError> {
    if *method == Method::HEAD
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok(BodyDecoder::Length(0));
    }
    if headers.contains_key(TRANSFER_ENCODING) {
        return Ok(if last_coding_is_chunked(headers) {
            BodyDecoder::Chunked(Chunk::Size)
        } else {
            BodyDecoder::UntilClose
        });
    }
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        for part in value.as_bytes().split(|&b| b == b',') {
            let parsed = std::str::from_utf8(part.trim_ascii())
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| WireError::Head("invalid content-length".into()))?;
            if length.is_some_and(|l| l != parsed) {
                return Err(WireError::Head("conflicting content-length".into()));
            }
            length = Some(parsed);
        }
    }
    Ok(length.map_or(BodyDecoder::UntilClose, BodyDecoder::Length))
}

fn last_coding_is_chunked(headers: &HeaderMap) -> bool {
    headers
        .get_all(TRANSFER_ENCODING)
        .iter()
        .next_back()
        .and_then(|v| v.as_bytes().rsplit(|&b| b == b',').next())
        .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"))
}

/// The `timeout` parameter of a `Keep-Alive` field (RFC 2068 §19.7.1.1,
/// sent by Node, Apache and others as `Keep-Alive: timeout=5, max=100`):
/// the seconds the server keeps an idle connection open.
fn keep_alive_timeout(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get_all(KEEP_ALIVE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .find_map(|param| {
            let (name, value) = param.trim_ascii().split_at_checked(b"timeout=".len())?;
            if !name.eq_ignore_ascii_case(b"timeout=") {
                return None;
            }
            let value = value.trim_ascii();
            let value = value
                .strip_prefix(b"\"")
                .and_then(|v| v.strip_suffix(b"\""))
                .unwrap_or(value);
            std::str::from_utf8(value).ok()?.parse().ok()
        })
        .map(Duration::from_secs)
}

fn has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// Where a chunked body's decoder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Chunk {
    /// Before a chunk-size line.
    Size,
    /// Inside a chunk's data, with this many bytes left.
    Data(u64),
    /// After a chunk's data, before its CRLF.
    DataEnd,
    /// After the last chunk: trailer fields until an empty line.
    Trailers,
}

/// Decodes a response body from the connection's read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyDecoder {
    /// `content-length`: this many bytes are left.
    Length(u64),
    /// `transfer-encoding: chunked`.
    Chunked(Chunk),
    /// Delimited by the connection's end.
    UntilClose,
    /// The body has ended.
    Done,
}

/// What one decoding step found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Decoded {
    /// Body data, a slice of the read buffer.
    Data(Bytes),
    /// The buffer holds no more of the body: read more.
    More,
    /// The body has ended; the buffer holds whatever follows it.
    End,
}

impl BodyDecoder {
    /// The next piece of the body from the front of `buf`.
    pub(super) fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, WireError> {
        match self {
            Self::Done | Self::Length(0) => {
                *self = Self::Done;
                Ok(Decoded::End)
            }
            Self::Length(left) => Ok(take_data(buf, left)),
            Self::UntilClose => Ok(if buf.is_empty() {
                Decoded::More
            } else {
                Decoded::Data(buf.split().freeze())
            }),
            Self::Chunked(chunk) => {
                let decoded = decode_chunked(chunk, buf)?;
                if decoded == Decoded::End {
                    *self = Self::Done;
                }
                Ok(decoded)
            }
        }
    }

    /// The connection reached its end: fine only where that ends the body.
    pub(super) fn at_eof(&mut self) -> Result<(), WireError> {
        match self {
            Self::UntilClose | Self::Done | Self::Length(0) => {
                *self = Self::Done;
                Ok(())
            }
            _ => Err(WireError::Truncated),
        }
    }
}

/// Up to `left` bytes of data from `buf`.
fn take_data(buf: &mut BytesMut, left: &mut u64) -> Decoded {
    if buf.is_empty() {
        return Decoded::More;
    }
    let take = usize::try_from(*left).map_or(buf.len(), |l| l.min(buf.len()));
    *left -= take as u64;
    Decoded::Data(buf.split_to(take).freeze())
}

fn decode_chunked(chunk: &mut Chunk, buf: &mut BytesMut) -> Result<Decoded, WireError> {
    loop {
        match chunk {
            Chunk::Size => {
                let Some((len, consumed)) = next_line(buf)? else {
                    return Ok(Decoded::More);
                };
                let size = chunk_size(&buf[..len])?;
                buf.advance(consumed);
                *chunk = if size == 0 {
                    Chunk::Trailers
                } else {
                    Chunk::Data(size)
                };
            }
            Chunk::Data(left) => {
                let decoded = take_data(buf, left);
                if *left == 0 {
                    *chunk = Chunk::DataEnd;
                }
                return Ok(decoded);
            }
            Chunk::DataEnd => match buf.first() {
                None => return Ok(Decoded::More),
                Some(b'\n') => {
                    buf.advance(1);
                    *chunk = Chunk::Size;
                }
                Some(b'\r') if buf.len() < 2 => return Ok(Decoded::More),
                Some(b'\r') if buf[1] == b'\n' => {
                    buf.advance(2);
                    *chunk = Chunk::Size;
                }
                Some(_) => return Err(WireError::Chunked("no CRLF after chunk data")),
            },
            Chunk::Trailers => {
                let Some((len, consumed)) = next_line(buf)? else {
                    return Ok(Decoded::More);
                };
                buf.advance(consumed);
                if len == 0 {
                    return Ok(Decoded::End);
                }
            }
        }
    }
}

/// Where the next line in `buf` ends, once it is whole: its length
/// without the CRLF (or bare LF), and its length with it.
fn next_line(buf: &[u8]) -> Result<Option<(usize, usize)>, WireError> {
    let Some(end) = memchr::memchr(b'\n', buf) else {
        return if buf.len() > MAX_LINE_BYTES {
            Err(WireError::Chunked("line too long"))
        } else {
            Ok(None)
        };
    };
    if end > MAX_LINE_BYTES {
        return Err(WireError::Chunked("line too long"));
    }
    let len = if end > 0 && buf[end - 1] == b'\r' {
        end - 1
    } else {
        end
    };
    Ok(Some((len, end + 1)))
}

/// The size in a chunk-size line (hex digits, then optional extensions).
fn chunk_size(line: &[u8]) -> Result<u64, WireError> {
    let digits = line
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(line.len());
    let rest = line[digits..].trim_ascii_start();
    if digits == 0 || digits > 15 || !(rest.is_empty() || rest[0] == b';') {
        return Err(WireError::Chunked("invalid chunk size"));
    }
    line[..digits].iter().try_fold(0u64, |size, &b| {
        let digit = (b as char)
            .to_digit(16)
            .ok_or(WireError::Chunked("invalid chunk size"))?;
        Ok(size * 16 + u64::from(digit))
    })
}

#[cfg(test)]
mod tests;
