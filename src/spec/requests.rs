//! The requests a `--connect` client sends: escapes in `--request` text, and a requests file
//! (`--requests FILE`) of named, weighted entries, HTTP requests written as plain text.
//!
//! A requests file holds one request per entry; each entry starts with a line
//! `### NAME [weight=N]` (the `.http` file convention) and runs to the next such line. Lines
//! before the first entry that start with `#` are comments. With `--protocol http1` an entry is
//! an HTTP request as one would type it: its lines are sent with CRLF endings, a blank line
//! ends the headers, and a body gets a Content-Length when it has none. With `--protocol raw`
//! an entry's lines are joined with `\n` and unescaped like `--request`.

use crate::error::ConfigError;
use crate::spec::framing::{NamedRequest, Protocol};

/// `\r\n` and friends as bytes.
pub fn unescape(text: &str) -> Result<Vec<u8>, ConfigError> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        out.push(match chars.next() {
            Some('r') => b'\r',
            Some('n') => b'\n',
            Some('t') => b'\t',
            Some('0') => 0,
            Some('\\') => b'\\',
            other => {
                return Err(ConfigError::Invalid(format!(
                    "unknown escape \\{} in '{text}'; use \\r, \\n, \\t, \\0 or \\\\",
                    other.map(String::from).unwrap_or_default()
                )));
            }
        });
    }
    Ok(out)
}

/// The entries of a requests file (`path` names it in messages).
pub fn parse_requests(
    text: &str,
    protocol: Protocol,
    path: &str,
) -> Result<Vec<NamedRequest>, ConfigError> {
    let bad = |line: usize, what: String| {
        ConfigError::Invalid(format!("--requests {path}, line {line}: {what}"))
    };
    let mut entries: Vec<(NamedRequest, Vec<&str>)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(header) = line.strip_prefix("###") {
            let mut name = None;
            let mut weight = 1;
            for word in header.split_whitespace() {
                match word.strip_prefix("weight=") {
                    Some(w) => {
                        weight = w.parse().ok().filter(|&w: &u32| w > 0).ok_or_else(|| {
                            bad(i + 1, format!("weight '{w}' is not a whole number above 0"))
                        })?
                    }
                    None if name.is_none() => name = Some(word.to_string()),
                    None => {
                        return Err(bad(
                            i + 1,
                            format!("'{word}' after the name: write '### NAME weight=N'"),
                        ));
                    }
                }
            }
            let name = name.unwrap_or_else(|| format!("req{}", entries.len() + 1));
            if entries.iter().any(|(e, _)| e.name == name) {
                return Err(bad(
                    i + 1,
                    format!("a second entry named '{name}': names tell the histograms apart"),
                ));
            }
            let request = NamedRequest {
                name,
                weight,
                bytes: Vec::new(),
            };
            entries.push((request, Vec::new()));
        } else if let Some((_, lines)) = entries.last_mut() {
            lines.push(line);
        } else if !line.trim().is_empty() && !line.starts_with('#') {
            return Err(bad(
                i + 1,
                "text before the first entry: start each request with a line '### NAME [weight=N]'"
                    .into(),
            ));
        }
    }
    if entries.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "--requests {path} has no entries: start each request with a line '### NAME [weight=N]'"
        )));
    }
    entries
        .into_iter()
        .map(|(mut r, mut lines)| {
            while lines.last().is_some_and(|l| l.trim().is_empty()) {
                lines.pop();
            }
            while lines.first().is_some_and(|l| l.trim().is_empty()) {
                lines.remove(0);
            }
            if lines.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "--requests {path}: the entry '{}' is empty",
                    r.name
                )));
            }
            r.bytes = match protocol {
                Protocol::Http1 => http_request(&lines),
                Protocol::Raw => unescape(&lines.join("\n"))?,
            };
            Ok(r)
        })
        .collect()
}

/// An HTTP request typed as text: CRLF line endings, a blank line after the headers, and a
/// Content-Length for a body that has none.
pub fn http_request(lines: &[&str]) -> Vec<u8> {
    let split = lines.iter().position(|l| l.trim().is_empty());
    let (head, body) = match split {
        Some(i) => (&lines[..i], lines[i + 1..].join("\n")),
        None => (lines, String::new()),
    };
    let mut out = String::new();
    for line in head {
        out.push_str(line.trim_end_matches('\r'));
        out.push_str("\r\n");
    }
    let has_length = head.iter().any(|l| {
        l.split(':')
            .next()
            .is_some_and(|n| n.trim().eq_ignore_ascii_case("content-length"))
    });
    if !body.is_empty() && !has_length {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_bytes() {
        assert_eq!(unescape("GET /\\r\\n\\r\\n").unwrap(), b"GET /\r\n\r\n");
        assert_eq!(unescape("a\\\\b\\0").unwrap(), b"a\\b\0");
        assert!(unescape("bad\\q").is_err());
    }

    #[test]
    fn a_requests_file_gives_named_weighted_http_requests() {
        let text = "# a GET/SET mix\n### GET weight=3\nGET /k HTTP/1.1\nHost: x\n\n### SET\nPUT /k HTTP/1.1\nHost: x\n\nhello\n";
        let r = parse_requests(text, Protocol::Http1, "mix.http").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].name.as_str(), r[0].weight), ("GET", 3));
        assert_eq!(r[0].bytes, b"GET /k HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!((r[1].name.as_str(), r[1].weight), ("SET", 1));
        assert_eq!(
            r[1].bytes,
            b"PUT /k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        );
        let raw =
            parse_requests("###\nget k\\r\\n\n###\nset k v\\r\\n", Protocol::Raw, "f").unwrap();
        assert_eq!(raw[0].name, "req1");
        assert_eq!(raw[1].bytes, b"set k v\r\n");
    }

    #[test]
    fn bad_requests_files_name_the_line_and_the_fix() {
        let err = |t: &str| {
            parse_requests(t, Protocol::Raw, "f")
                .unwrap_err()
                .to_string()
        };
        assert!(err("GET /\n").contains("line 1"));
        assert!(err("### A weight=0\nx").contains("weight '0'"));
        assert!(err("### A\nx\n### A\ny").contains("second entry named 'A'"));
        assert!(err("### A\n\n").contains("'A' is empty"));
        assert!(err("").contains("no entries"));
    }
}
