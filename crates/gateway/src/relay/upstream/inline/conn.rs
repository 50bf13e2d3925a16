//! One upstream HTTP/1 connection of the inline pool: its socket and the
//! buffer its reads fill. Whichever task waits on it reads it directly, so
//! an upstream read wakes that task once and nothing else.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{Context, Poll, Waker, ready};
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use http::Method;
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::codec::{ResponseHead, WireError, parse_response_head};

/// The first read's room; doubled while reads fill it, up to [`MAX_READ`].
const FIRST_READ: usize = 8 * 1024;
const MAX_READ: usize = 128 * 1024;
/// Below this much free room the buffer grows before a read.
const MIN_ROOM: usize = 1024;

/// Why no response head was read.
#[derive(Debug, Error)]
pub(super) enum HeadError {
    /// The socket failed.
    #[error("{0}")]
    Io(io::Error),
    /// The upstream closed the connection first.
    #[error("upstream closed the connection before answering")]
    Closed,
    /// The upstream's answer is not HTTP/1 as this client reads it.
    #[error("{0}")]
    Wire(WireError),
}

/// An open connection and what has been read from it but not yet used.
#[derive(Debug)]
pub(super) struct Conn {
    stream: TcpStream,
    /// Bytes read and not yet taken: the rest of a head, body data.
    pub(super) read: BytesMut,
    next_read: usize,
    /// Until when the pool may hand the connection out again (set when
    /// it goes back to the pool).
    pub(super) idle_until: Instant,
}

impl Conn {
    /// A connection over a connected socket.
    pub(super) fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            read: BytesMut::new(),
            next_read: FIRST_READ,
            idle_until: Instant::now(),
        }
    }

    /// Write the request head and body, whole (one vectored write when the
    /// socket takes it all).
    pub(super) async fn write_request(&mut self, head: Bytes, body: Bytes) -> io::Result<()> {
        let mut request = head.chain(body);
        self.stream.write_all_buf(&mut request).await
    }

    /// Read until the final response head to a `method` request is whole.
    pub(super) async fn read_head(&mut self, method: &Method) -> Result<ResponseHead, HeadError> {
        loop {
            if let Some(head) =
                parse_response_head(&mut self.read, method).map_err(HeadError::Wire)?
            {
                return Ok(head);
            }
            let read = std::future::poll_fn(|cx| self.poll_fill(cx)).await;
            match read.map_err(HeadError::Io)? {
                0 => return Err(HeadError::Closed),
                _ => continue,
            }
        }
    }

    /// Read what the socket has into the buffer: `Ok(0)` at end of file.
    ///
    /// The read goes through tokio's `poll_read`, which takes a read that
    /// left room in the buffer as proof that the socket is drained: the
    /// next call waits for the reactor instead of asking the kernel again
    /// (`try_read` would, and get `EAGAIN`: a second system call for every
    /// streamed event).
    pub(super) fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        // Readiness first, so that a connection with nothing to read does
        // not grow its buffer.
        ready!(self.stream.poll_read_ready(cx))?;
        if self.read.capacity() - self.read.len() < MIN_ROOM {
            self.read.reserve(self.next_read);
        }
        let room = self.read.capacity() - self.read.len();
        let n = ready!(pin!(self.stream.read_buf(&mut self.read)).poll(cx))?;
        if n == room {
            self.next_read = (self.next_read * 2).min(MAX_READ);
        }
        Poll::Ready(Ok(n))
    }

    /// True when another request can go out on this connection: nothing is
    /// left unread and the upstream has neither closed it nor sent anything
    /// unasked. Registers no waker.
    pub(super) fn is_reusable(&mut self) -> bool {
        self.read.is_empty()
            && self
                .poll_fill(&mut Context::from_waker(Waker::noop()))
                .is_pending()
    }
}
