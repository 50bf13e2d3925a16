//! The wire codec on its own: request heads, response heads split anywhere,
//! and every body framing, whole and fed a byte at a time.

use super::*;

fn head_of(reply: &str, method: &Method) -> Result<Option<ResponseHead>, WireError> {
    parse_response_head(&mut BytesMut::from(reply), method)
}

/// Decode `wire` fed in pieces of `step` bytes; the data and whether the
/// body ended, or the first error.
fn decode_in_steps(
    mut decoder: BodyDecoder,
    wire: &[u8],
    step: usize,
) -> Result<(Vec<u8>, bool), WireError> {
    let mut buf = BytesMut::new();
    let mut data = Vec::new();
    for piece in wire.chunks(step) {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut buf)? {
                Decoded::Data(bytes) => {
                    assert!(!bytes.is_empty(), "no empty data");
                    data.extend_from_slice(&bytes);
                }
                Decoded::More => break,
                Decoded::End => return Ok((data, true)),
            }
        }
    }
    Ok((data, false))
}

#[test]
fn request_heads_carry_the_body_length_and_a_host() {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_static("Bearer k"));
    headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("999"));
    let head = encode_request_head(&Method::POST, "/v1/x?y=1", "up:8080", &headers, 12);
    assert_eq!(
        &head[..],
        b"POST /v1/x?y=1 HTTP/1.1\r\nhost: up:8080\r\nauthorization: Bearer k\r\ncontent-length: 12\r\n\r\n"
    );

    headers.clear();
    headers.insert(HOST, HeaderValue::from_static("named"));
    let head = encode_request_head(&Method::GET, "/models", "up:8080", &headers, 0);
    assert_eq!(&head[..], b"GET /models HTTP/1.1\r\nhost: named\r\n\r\n");
    let head = encode_request_head(&Method::POST, "/", "up", &headers, 0);
    assert!(head.ends_with(b"content-length: 0\r\n\r\n"));
}

#[test]
fn a_response_head_is_taken_once_whole_with_informational_heads_skipped() {
    let reply = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-A: 1\r\nx-a: 2\r\ncontent-length: 4\r\n\r\nbody";
    for cut in 0..reply.len() - 4 {
        assert!(
            head_of(&reply[..cut], &Method::POST).unwrap().is_none(),
            "partial at {cut}"
        );
    }
    let mut buf = BytesMut::from(reply);
    let head = parse_response_head(&mut buf, &Method::POST)
        .unwrap()
        .unwrap();
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.headers["content-type"], "text/event-stream");
    assert_eq!(head.headers.get_all("x-a").iter().count(), 2);
    assert_eq!(head.body, BodyDecoder::Length(4));
    assert!(head.keep_alive);
    assert_eq!(&buf[..], b"body", "the body stays in the buffer");
}

#[test]
fn header_values_outlive_the_reuse_of_the_read_buffer() {
    let reply =
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After:  7 \r\nX-Note: caf\xe9\r\nx-a: 1\r\nX-A: 2\r\ncontent-length: 0\r\n\r\n";
    let mut buf = BytesMut::with_capacity(4096);
    buf.extend_from_slice(reply);
    let head = parse_response_head(&mut buf, &Method::POST)
        .unwrap()
        .unwrap();
    // The connection reads its next answer into the same buffer.
    buf.clear();
    buf.extend_from_slice(&[b'#'; 2048]);
    assert_eq!(head.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(head.headers["retry-after"], "7", "trimmed as before");
    assert_eq!(
        head.headers["x-note"].as_bytes(),
        b"caf\xe9",
        "obs-text kept"
    );
    let values: Vec<_> = head.headers.get_all("x-a").iter().collect();
    assert_eq!(values, ["1", "2"], "repeated fields in order");
    assert_eq!(head.headers.len(), 5);
}

#[test]
fn the_upstreams_keep_alive_timeout_is_read_from_its_keep_alive_field() {
    let timeout_of = |fields: &str| {
        let reply = format!("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n{fields}\r\n");
        head_of(&reply, &Method::POST)
            .unwrap()
            .unwrap()
            .keep_alive_timeout
            .map(|t| t.as_secs())
    };
    for (fields, timeout) in [
        ("", None),
        ("Keep-Alive: timeout=5\r\n", Some(5)),
        ("keep-alive: timeout=5, max=100\r\n", Some(5)),
        ("Keep-Alive: max=100,TIMEOUT=30\r\n", Some(30)),
        (
            "Keep-Alive: max=100\r\nKeep-Alive: timeout=\"2\"\r\n",
            Some(2),
        ),
        ("Keep-Alive: timeout=0\r\n", Some(0)),
        ("Keep-Alive: timeout=soon\r\n", None),
        ("Keep-Alive: timeouts=5\r\n", None),
        ("Keep-Alive: xtimeout=5\r\n", None),
        ("X-Keep-Alive: timeout=5\r\n", None),
    ] {
        assert_eq!(timeout_of(fields), timeout, "{fields:?}");
    }
}

#[test]
fn body_framing_follows_rfc_9112() {
    let cases: [(&str, &Method, BodyDecoder, bool); 9] = [
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\ncontent-length: 3\r\n\r\n",
            &Method::POST,
            BodyDecoder::Chunked(Chunk::Size),
            true,
        ),
        (
            "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n",
            &Method::POST,
            BodyDecoder::UntilClose,
            false,
        ),
        (
            "HTTP/1.1 200 OK\r\n\r\n",
            &Method::POST,
            BodyDecoder::UntilClose,
            false,
        ),
        (
            "HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\n",
            &Method::POST,
            BodyDecoder::Length(5),
            true,
        ),
        (
            "HTTP/1.1 204 No Content\r\n\r\n",
            &Method::POST,
            BodyDecoder::Length(0),
            true,
        ),
        (
            "HTTP/1.1 304 Not Modified\r\n\r\n",
            &Method::GET,
            BodyDecoder::Length(0),
            true,
        ),
        (
            "HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n",
            &Method::HEAD,
            BodyDecoder::Length(0),
            true,
        ),
        (
            "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\ncontent-length: 1\r\n\r\n",
            &Method::POST,
            BodyDecoder::Length(1),
            false,
        ),
        (
            "HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\n",
            &Method::POST,
            BodyDecoder::Length(1),
            false,
        ),
    ];
    for (reply, method, body, keep_alive) in cases {
        let head = head_of(reply, method).unwrap().unwrap();
        assert_eq!((head.body, head.keep_alive), (body, keep_alive), "{reply}");
    }
}

#[test]
fn a_head_may_have_up_to_max_headers_fields() {
    let head_with = |fields: usize| {
        let lines: String = (0..fields).map(|i| format!("x-f{i}: {i}\r\n")).collect();
        head_of(&format!("HTTP/1.1 200 OK\r\n{lines}\r\n"), &Method::POST)
    };
    let head = head_with(MAX_HEADERS).unwrap().unwrap();
    assert_eq!(head.headers.len(), MAX_HEADERS);
    assert_eq!(
        head.headers["x-f127"], "127",
        "the last field is read whole"
    );
    assert!(
        matches!(head_with(MAX_HEADERS + 1), Err(WireError::Head(_))),
        "one field too many"
    );
}

#[test]
fn malformed_response_heads_are_errors() {
    for reply in [
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "SMTP ready\r\n\r\n",
        "HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
    ] {
        assert!(
            matches!(head_of(reply, &Method::POST), Err(WireError::Head(_))),
            "{reply}"
        );
    }
    assert_eq!(
        head_of("HTTP/1.1 101 Switching Protocols\r\n\r\n", &Method::GET).unwrap_err(),
        WireError::Upgrade
    );
    let endless = format!("HTTP/1.1 200 OK\r\nx: {}", "a".repeat(MAX_HEAD_BYTES));
    assert_eq!(
        head_of(&endless, &Method::POST).unwrap_err(),
        WireError::HeadTooLong
    );
}

#[test]
fn chunked_bodies_decode_however_the_bytes_arrive() {
    let wire =
        b"5;name=value\r\nhello\r\n7\r\n, world\r\nA\n0123456789\n0\r\nx-trailer: 1\r\n\r\nNEXT";
    for step in [1, 2, 3, 7, wire.len()] {
        let mut buf = BytesMut::new();
        let mut decoder = BodyDecoder::Chunked(Chunk::Size);
        let mut data = Vec::new();
        let mut ended = false;
        for piece in wire.chunks(step) {
            buf.extend_from_slice(piece);
            while !ended {
                match decoder.decode(&mut buf).unwrap() {
                    Decoded::Data(bytes) => data.extend_from_slice(&bytes),
                    Decoded::More => break,
                    Decoded::End => ended = true,
                }
            }
        }
        assert!(ended, "step {step}");
        assert_eq!(data, b"hello, world0123456789", "step {step}");
        assert_eq!(&buf[..], b"NEXT", "what follows the body stays");
        assert_eq!(decoder, BodyDecoder::Done);
        assert_eq!(decoder.decode(&mut buf).unwrap(), Decoded::End);
    }
}

#[test]
fn a_whole_chunk_is_handed_out_as_one_slice() {
    let mut buf = BytesMut::from(&b"b\r\ndata: one\n\n\r\nb\r\ndata: two\n\n\r\n"[..]);
    let mut decoder = BodyDecoder::Chunked(Chunk::Size);
    assert_eq!(
        decoder.decode(&mut buf).unwrap(),
        Decoded::Data(Bytes::from_static(b"data: one\n\n"))
    );
    assert_eq!(
        decoder.decode(&mut buf).unwrap(),
        Decoded::Data(Bytes::from_static(b"data: two\n\n"))
    );
    assert_eq!(decoder.decode(&mut buf).unwrap(), Decoded::More);
    assert!(buf.is_empty());
}

#[test]
fn malformed_chunked_bodies_are_errors() {
    for wire in [
        &b"zz\r\nhello\r\n"[..],
        b"\r\nhello\r\n",
        b"5 x\r\nhello\r\n",
        b"5\r\nhelloXX",
        b"1234567890abcdef0\r\n",
    ] {
        let result = decode_in_steps(BodyDecoder::Chunked(Chunk::Size), wire, wire.len());
        assert!(
            matches!(result, Err(WireError::Chunked(_))),
            "{wire:?}: {result:?}"
        );
    }
    let long_line = vec![b'1'; MAX_LINE_BYTES + 2];
    assert_eq!(
        decode_in_steps(BodyDecoder::Chunked(Chunk::Size), &long_line, 512).unwrap_err(),
        WireError::Chunked("line too long")
    );
}

#[test]
fn length_and_close_delimited_bodies() {
    let (data, ended) = decode_in_steps(BodyDecoder::Length(5), b"helloNEXT", 2).unwrap();
    assert_eq!((data.as_slice(), ended), (&b"hello"[..], true));

    let (data, ended) = decode_in_steps(BodyDecoder::UntilClose, b"all of it", 4).unwrap();
    assert_eq!((data.as_slice(), ended), (&b"all of it"[..], false));
    let mut until_close = BodyDecoder::UntilClose;
    assert_eq!(until_close.at_eof(), Ok(()));
    assert_eq!(until_close, BodyDecoder::Done);

    assert_eq!(BodyDecoder::Length(3).at_eof(), Err(WireError::Truncated));
    assert_eq!(
        BodyDecoder::Chunked(Chunk::Data(2)).at_eof(),
        Err(WireError::Truncated)
    );
    assert_eq!(BodyDecoder::Length(0).at_eof(), Ok(()));
}
