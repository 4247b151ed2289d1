//! HTTP/1.x responses on a kept-alive connection: where one ends (Content-Length, chunked
//! encoding, or a status that has no body), its status code, and whether the server closes the
//! connection after it (HTTP/1.0 without keep-alive, `Connection: close`). The header and chunk
//! syntax is httparse's; this file only decides where the message ends.

use httparse::{EMPTY_HEADER, Status};

/// Headers looked at per response; a response with more is refused (`TooManyHeaders`).
const MAX_HEADERS: usize = 64;

/// One complete response at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response {
    /// Bytes of the whole response: status line, headers and body.
    pub len: usize,
    /// The status code (200, 404, ...).
    pub status: u16,
    /// The server will close the connection after this response: HTTP/1.0 without
    /// `Connection: keep-alive`, or `Connection: close`.
    pub closes: bool,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
}

/// Why a response cannot be framed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Http1Error {
    /// The bytes are not an HTTP/1.x response.
    #[error(
        "the service's answer is not an HTTP/1.x response ({0}); is --protocol http1 right for it?"
    )]
    Malformed(String),
    /// No Content-Length and no chunked encoding: the body ends when the connection closes.
    #[error(
        "a {status} response has neither Content-Length nor chunked encoding, so its body ends only when the service closes the connection; a kept-alive client cannot measure that (measure connect+request+close with -w crr, or make the service send Content-Length)"
    )]
    UntilClose {
        /// The status code of the response.
        status: u16,
    },
}

/// The first complete response at the start of `buf`; `Ok(None)` while more bytes are needed.
/// `head` says the request was a HEAD (its response has headers only). Allocates nothing.
pub fn parse(buf: &[u8], head: bool) -> Result<Option<Response>, Http1Error> {
    let mut headers = [EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut headers);
    let header_len = match res.parse(buf) {
        Ok(Status::Complete(n)) => n,
        Ok(Status::Partial) => return Ok(None),
        Err(e) => return Err(Http1Error::Malformed(e.to_string())),
    };
    let status = res.code.unwrap_or(0);
    let minor_version = res.version.unwrap_or(1);
    let (mut length, mut chunked, mut close, mut keep_alive) = (None, false, false, false);
    for h in res.headers.iter() {
        let value = std::str::from_utf8(h.value).unwrap_or("").trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| {
                Http1Error::Malformed(format!("Content-Length '{value}' is not a number"))
            })?);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().ends_with("chunked");
        } else if h.name.eq_ignore_ascii_case("connection") {
            close |= has_token(value, "close");
            keep_alive |= has_token(value, "keep-alive");
        }
    }
    let closes = close || (minor_version == 0 && !keep_alive);
    let bodiless = head || (100..200).contains(&status) || status == 204 || status == 304;
    let body = if bodiless {
        Some(0)
    } else if chunked {
        match chunked_len(&buf[header_len..])? {
            Some(n) => Some(n),
            None => return Ok(None),
        }
    } else {
        Some(length.ok_or(Http1Error::UntilClose { status })?)
    };
    let len = header_len + body.unwrap_or(0);
    Ok((buf.len() >= len).then_some(Response {
        len,
        status,
        closes,
        minor_version,
    }))
}

/// The response's whole length once its headers are in and it announced a Content-Length (how
/// large a buffer must be), else `None`.
pub fn announced_len(buf: &[u8]) -> Option<usize> {
    let mut headers = [EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut headers);
    let Ok(Status::Complete(header_len)) = res.parse(buf) else {
        return None;
    };
    let length = res
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))?;
    let n: usize = std::str::from_utf8(length.value)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(header_len + n)
}

/// True when the comma-separated header `value` holds `token` (case-insensitive).
fn has_token(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// The length of a complete chunked body at the start of `body` (the last chunk, trailers and
/// the final CRLF included), or `None` while it is incomplete.
fn chunked_len(body: &[u8]) -> Result<Option<usize>, Http1Error> {
    let mut pos = 0;
    loop {
        let (consumed, size) = match httparse::parse_chunk_size(&body[pos..]) {
            Ok(Status::Complete(c)) => c,
            Ok(Status::Partial) => return Ok(None),
            Err(_) => return Err(Http1Error::Malformed("a bad chunk size line".into())),
        };
        pos += consumed;
        if size == 0 {
            // Trailer fields, if any, then an empty line.
            let rest = &body[pos..];
            if rest.starts_with(b"\r\n") {
                return Ok(Some(pos + 2));
            }
            return Ok(rest
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|i| pos + i + 4));
        }
        pos += size as usize + 2;
        if pos > body.len() {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_frames_the_body_and_waits_for_all_of_it() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello";
        let whole = parse(r, false).unwrap().unwrap();
        assert_eq!(
            (whole.len, whole.status, whole.closes),
            (r.len(), 200, false)
        );
        assert_eq!(parse(&r[..r.len() - 1], false), Ok(None));
        assert_eq!(parse(&r[..20], false), Ok(None));
        assert_eq!(announced_len(&r[..r.len() - 3]), Some(r.len()));
        let mut two = r.to_vec();
        two.extend_from_slice(r);
        assert_eq!(parse(&two, false).unwrap().unwrap().len, r.len());
    }

    #[test]
    fn chunked_bodies_end_at_the_last_chunk_and_its_trailers() {
        let r = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n";
        let whole = parse(r, false).unwrap().unwrap();
        assert_eq!((whole.len, whole.status), (r.len(), 404));
        for cut in 40..r.len() {
            assert_eq!(parse(&r[..cut], false), Ok(None), "cut at {cut}");
        }
        let t = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 1\r\n\r\n";
        assert_eq!(parse(t, false).unwrap().unwrap().len, t.len());
    }

    #[test]
    fn bodiless_statuses_and_head_end_with_the_headers() {
        let r = b"HTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(parse(r, false).unwrap().unwrap().len, r.len());
        let h = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
        assert_eq!(parse(h, true).unwrap().unwrap().len, h.len());
        assert_eq!(parse(h, false), Ok(None));
    }

    #[test]
    fn http_1_0_and_connection_close_say_the_server_will_close() {
        let old = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
        let r = parse(old, false).unwrap().unwrap();
        assert!(r.closes);
        assert_eq!(r.minor_version, 0);
        let kept = b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n";
        assert!(!parse(kept, false).unwrap().unwrap().closes);
        let close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        assert!(parse(close, false).unwrap().unwrap().closes);
    }

    #[test]
    fn responses_that_cannot_be_framed_say_why() {
        let until_close = b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody";
        assert_eq!(
            parse(until_close, false),
            Err(Http1Error::UntilClose { status: 200 })
        );
        assert!(matches!(
            parse(b"SSH-2.0-OpenSSH\r\n\r\n", false),
            Err(Http1Error::Malformed(_))
        ));
    }
}
