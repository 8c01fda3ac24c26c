//! RESP2: encoding replies and parsing requests (multibulk and inline) with
//! Redis's limits and its protocol error texts.

use super::Reply;

use super::cli::split_args;

/// Longest inline request or multibulk header line Redis accepts (64 KiB).
pub(crate) const MAX_INLINE: usize = 64 * 1024;
/// Redis's cap on the element count of one multibulk request.
pub(crate) const MAX_MULTIBULK: i64 = i32::MAX as i64;

pub(crate) fn encode(reply: &Reply, out: &mut Vec<u8>) {
    match reply {
        Reply::Status(s) => line(out, b'+', s),
        Reply::Error(e) => line(out, b'-', e),
        Reply::Int(n) => {
            out.push(b':');
            out.extend_from_slice(n.to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        Reply::Bulk(b) => {
            out.push(b'$');
            out.extend_from_slice(b.len().to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(b);
            out.extend_from_slice(b"\r\n");
        }
        Reply::Nil => out.extend_from_slice(b"$-1\r\n"),
        Reply::NilArray => out.extend_from_slice(b"*-1\r\n"),
        Reply::Array(items) => {
            out.push(b'*');
            out.extend_from_slice(items.len().to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
            for item in items {
                encode(item, out);
            }
        }
        other => encode(&other.to_resp2(), out),
    }
}

/// RESP3 (a client after `HELLO 3`): null, maps, sets, doubles and pushes
/// as Redis 7.0 writes them.
pub(crate) fn encode3(reply: &Reply, out: &mut Vec<u8>) {
    let aggregate = |out: &mut Vec<u8>, prefix: u8, len: usize| {
        out.push(prefix);
        out.extend_from_slice(len.to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    };
    match reply {
        Reply::Nil | Reply::NilArray => out.extend_from_slice(b"_\r\n"),
        Reply::Array(items) => {
            aggregate(out, b'*', items.len());
            items.iter().for_each(|i| encode3(i, out));
        }
        Reply::Set(items) => {
            aggregate(out, b'~', items.len());
            items.iter().for_each(|i| encode3(i, out));
        }
        Reply::Push(items) => {
            aggregate(out, b'>', items.len());
            items.iter().for_each(|i| encode3(i, out));
        }
        Reply::Map(pairs) => {
            aggregate(out, b'%', pairs.len());
            for (k, v) in pairs {
                encode3(k, out);
                encode3(v, out);
            }
        }
        Reply::Double(d) => {
            out.push(b',');
            // Redis writes it with printf's `%.17g`: a NaN as `nan` or, with
            // its sign bit set (Lua's 0/0 on x86), `-nan`.
            out.extend_from_slice(super::float::format_double(*d).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        Reply::DoubleText(text) => {
            out.push(b',');
            out.extend_from_slice(text);
            out.extend_from_slice(b"\r\n");
        }
        Reply::Bool(b) => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        Reply::BigNumber(digits) => {
            out.push(b'(');
            out.extend_from_slice(digits);
            out.extend_from_slice(b"\r\n");
        }
        Reply::Verbatim { format, text } => {
            out.push(b'=');
            out.extend_from_slice((text.len() + 4).to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(format);
            out.push(b':');
            out.extend_from_slice(text);
            out.extend_from_slice(b"\r\n");
        }
        other => encode(other, out),
    }
}

/// Status and error lines cannot carry CR or LF; Redis replaces them.
fn line(out: &mut Vec<u8>, prefix: u8, text: &[u8]) {
    out.push(prefix);
    out.extend(
        text.iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

pub fn to_bytes(reply: &Reply) -> Vec<u8> {
    let mut out = Vec::new();
    encode(reply, &mut out);
    out
}

/// Encodes a request as a multibulk array.
pub fn encode_request(argv: &[Vec<u8>]) -> Vec<u8> {
    to_bytes(&Reply::Array(argv.iter().map(Reply::bulk).collect()))
}

#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// A whole request and how many bytes it used (argv may be empty:
    /// an empty line or `*0`, which Redis ignores).
    Request(Vec<Vec<u8>>, usize),
    /// More bytes are needed; at least this many in total.
    Incomplete(usize),
}

/// A protocol error: the text after `-ERR `. The connection closes after it.
#[derive(Debug, PartialEq)]
pub struct ProtocolError(pub String);

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(p) = buf[at..].iter().position(|&b| b == b'\r') {
        let p = at + p;
        if buf.get(p + 1) == Some(&b'\n') {
            return Some(p);
        }
        at = p + 1;
    }
    None
}

/// A count or length as Redis's `string2ll` reads it: an optional `-`,
/// then digits without a leading zero (`0` alone is zero); no `+`, no
/// spaces, no `-0`, nothing that overflows.
fn parse_count(bytes: &[u8]) -> Option<i64> {
    if bytes == b"0" {
        return Some(0);
    }
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let (first, rest) = digits.split_first()?;
    if !(b'1'..=b'9').contains(first) {
        return None;
    }
    let mut value = u64::from(first - b'0');
    for &d in rest {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(value)
    } else {
        i64::try_from(value).ok()
    }
}

/// Parses one request from the start of `buf`.
pub fn parse_request(buf: &[u8], max_bulk: i64) -> Result<Parsed, ProtocolError> {
    let mut parser = RequestParser::default();
    let fed = parser.feed(buf, max_bulk)?;
    Ok(match fed.request {
        Some(argv) => Parsed::Request(argv, fed.used),
        None => Parsed::Incomplete(fed.used + fed.needed),
    })
}

/// A connection's request parser: it keeps the arguments of a multibulk
/// request read so far, so bytes arriving in pieces are each parsed once
/// (as Redis keeps `multibulklen` and `bulklen`), whatever the request's
/// length.
#[derive(Debug, Default)]
pub struct RequestParser {
    argv: Vec<Vec<u8>>,
    /// Arguments still to come of the multibulk request being read (0: none begun).
    left: usize,
}

/// What one [`RequestParser::feed`] did.
#[derive(Debug)]
pub struct Fed {
    /// Bytes parsed from the start of the buffer (the caller drops them).
    pub used: usize,
    /// A whole request (empty for an empty line or `*0`, which Redis ignores).
    pub request: Option<Vec<Vec<u8>>>,
    /// With no request: bytes needed after `used` before it is worth feeding again.
    pub needed: usize,
}

impl RequestParser {
    pub fn feed(&mut self, buf: &[u8], max_bulk: i64) -> Result<Fed, ProtocolError> {
        let wait = |used: usize, needed: usize| {
            Ok(Fed {
                used,
                request: None,
                needed,
            })
        };
        let mut pos = 0;
        if self.left == 0 {
            if buf.is_empty() {
                return wait(0, 1);
            }
            if buf[0] != b'*' {
                return Ok(match parse_inline(buf)? {
                    Parsed::Request(argv, used) => Fed {
                        used,
                        request: Some(argv),
                        needed: 0,
                    },
                    Parsed::Incomplete(n) => Fed {
                        used: 0,
                        request: None,
                        needed: n,
                    },
                });
            }
            let Some(end) = find_crlf(buf, 0) else {
                if buf.len() > MAX_INLINE {
                    return Err(ProtocolError(
                        "Protocol error: too big mbulk count string".into(),
                    ));
                }
                return wait(0, buf.len() + 1);
            };
            let count = parse_count(&buf[1..end]).filter(|n| *n <= MAX_MULTIBULK);
            let Some(count) = count else {
                return Err(ProtocolError(
                    "Protocol error: invalid multibulk length".into(),
                ));
            };
            pos = end + 2;
            if count <= 0 {
                return Ok(Fed {
                    used: pos,
                    request: Some(Vec::new()),
                    needed: 0,
                });
            }
            self.left = count as usize;
            self.argv = Vec::with_capacity(count.min(1024) as usize);
        }
        while self.left > 0 {
            if pos >= buf.len() {
                return wait(pos, 1);
            }
            if buf[pos] != b'$' {
                return Err(ProtocolError(format!(
                    "Protocol error: expected '$', got '{}'",
                    buf[pos] as char
                )));
            }
            let Some(end) = find_crlf(buf, pos) else {
                if buf.len() - pos > MAX_INLINE {
                    return Err(ProtocolError(
                        "Protocol error: too big bulk count string".into(),
                    ));
                }
                return wait(pos, buf.len() - pos + 1);
            };
            let len = parse_count(&buf[pos + 1..end]).filter(|n| *n >= 0 && *n <= max_bulk);
            let Some(len) = len else {
                return Err(ProtocolError("Protocol error: invalid bulk length".into()));
            };
            let start = end + 2;
            let stop = start + len as usize;
            if buf.len() < stop + 2 {
                return wait(pos, stop + 2 - pos);
            }
            self.argv.push(buf[start..stop].to_vec());
            pos = stop + 2;
            self.left -= 1;
        }
        Ok(Fed {
            used: pos,
            request: Some(std::mem::take(&mut self.argv)),
            needed: 0,
        })
    }
}

fn parse_inline(buf: &[u8]) -> Result<Parsed, ProtocolError> {
    let Some(newline) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > MAX_INLINE {
            return Err(ProtocolError(
                "Protocol error: too big inline request".into(),
            ));
        }
        return Ok(Parsed::Incomplete(buf.len() + 1));
    };
    let mut line = &buf[..newline];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    let argv = split_args(line)
        .map_err(|_| ProtocolError("Protocol error: unbalanced quotes in request".into()))?;
    Ok(Parsed::Request(argv, newline + 1))
}

/// Parses one reply from the start of `buf` (for clients and tests):
/// the reply and the bytes it used, or None if more bytes are needed.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, ProtocolError> {
    let Some(end) = find_crlf(buf, 0) else {
        return Ok(None);
    };
    let bad = || {
        ProtocolError(format!(
            "bad reply line {:?}",
            String::from_utf8_lossy(&buf[..end])
        ))
    };
    let text = &buf[1..end];
    let after = end + 2;
    match buf[0] {
        b'+' => Ok(Some((Reply::Status(text.to_vec()), after))),
        b'-' => Ok(Some((Reply::Error(text.to_vec()), after))),
        b':' => Ok(Some((
            Reply::Int(parse_count(text).ok_or_else(bad)?),
            after,
        ))),
        b'$' => {
            let len = parse_count(text).ok_or_else(bad)?;
            if len < 0 {
                return Ok(Some((Reply::Nil, after)));
            }
            let stop = after + len as usize;
            if buf.len() < stop + 2 {
                return Ok(None);
            }
            Ok(Some((Reply::Bulk(buf[after..stop].to_vec()), stop + 2)))
        }
        b'=' => {
            let len = parse_count(text).filter(|n| *n >= 4).ok_or_else(bad)?;
            let stop = after + len as usize;
            if buf.len() < stop + 2 {
                return Ok(None);
            }
            let body = &buf[after..stop];
            let mut format = [0; 3];
            format.copy_from_slice(&body[..3]);
            let text = body[4..].to_vec();
            Ok(Some((Reply::Verbatim { format, text }, stop + 2)))
        }
        b'*' => {
            let count = parse_count(text).ok_or_else(bad)?;
            if count < 0 {
                return Ok(Some((Reply::NilArray, after)));
            }
            let mut items = Vec::with_capacity(count.min(1024) as usize);
            let mut pos = after;
            for _ in 0..count {
                match parse_reply(&buf[pos..])? {
                    Some((item, used)) => {
                        items.push(item);
                        pos += used;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Reply::Array(items), pos)))
        }
        b'~' | b'>' | b'%' => {
            let count = parse_count(text).ok_or_else(bad)?.max(0) as usize;
            let n = if buf[0] == b'%' { count * 2 } else { count };
            let mut items = Vec::with_capacity(n.min(1024));
            let mut pos = after;
            for _ in 0..n {
                match parse_reply(&buf[pos..])? {
                    Some((item, used)) => {
                        items.push(item);
                        pos += used;
                    }
                    None => return Ok(None),
                }
            }
            let reply = match buf[0] {
                b'~' => Reply::Set(items),
                b'>' => Reply::Push(items),
                _ => {
                    let mut pairs = Vec::with_capacity(count);
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Reply::Map(pairs)
                }
            };
            Ok(Some((reply, pos)))
        }
        b'_' => Ok(Some((Reply::Nil, after))),
        b',' => {
            let text = std::str::from_utf8(text).map_err(|_| bad())?;
            let value = match text {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                "nan" => f64::NAN,
                t => t.parse().map_err(|_| bad())?,
            };
            Ok(Some((Reply::Double(value), after)))
        }
        b'#' => Ok(Some((Reply::Int(i64::from(text == b"t")), after))),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: i64 = 512 * 1024 * 1024;

    /// A RESP3 double is printf's `%.17g`, NaN's sign included: Redis
    /// 7.0.15 after HELLO 3 answered `EVAL "return {double=0/0}" 0` with
    /// `,-nan` and `EVAL "return {double=-(0/0)}" 0` with `,nan`.
    #[test]
    fn a_nan_double_keeps_its_sign_as_redis_prints_it() {
        let encoded = |d: f64| {
            let mut out = Vec::new();
            encode3(&Reply::Double(d), &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(encoded(-f64::NAN), ",-nan\r\n");
        assert_eq!(encoded(f64::NAN), ",nan\r\n");
        assert_eq!(encoded(f64::INFINITY), ",inf\r\n");
        assert_eq!(encoded(f64::NEG_INFINITY), ",-inf\r\n");
        assert_eq!(encoded(1.5), ",1.5\r\n");
    }

    /// A long request arriving in small pieces: each byte is parsed about
    /// once (the parser keeps the arguments read so far), and the request
    /// is the same as parsed whole. Parsing from the start on every piece
    /// offered the parser ~n²/2 bytes here.
    #[test]
    fn a_request_in_pieces_is_parsed_once_and_whole() {
        let argv: Vec<Vec<u8>> = (0..20_000).map(|i| format!("v{i}").into_bytes()).collect();
        let mut bytes = encode_request(&argv);
        bytes.extend(encode_request(&[b"PING".to_vec()]));
        let mut parser = RequestParser::default();
        let (mut held, mut offered, mut got) = (Vec::new(), 0usize, Vec::new());
        for piece in bytes.chunks(7) {
            held.extend_from_slice(piece);
            loop {
                offered += held.len();
                let fed = parser.feed(&held, MAX).unwrap();
                held.drain(..fed.used);
                match fed.request {
                    Some(request) => got.push(request),
                    None => break,
                }
            }
        }
        assert_eq!(got, vec![argv, vec![b"PING".to_vec()]]);
        assert!(held.is_empty());
        assert!(
            offered < 4 * bytes.len(),
            "{offered} bytes offered for {}",
            bytes.len()
        );
    }

    #[test]
    fn encodes_every_reply_type() {
        let r = Reply::Array(vec![
            Reply::ok(),
            Reply::Int(-3),
            Reply::bulk("a\r\nb"),
            Reply::Nil,
            Reply::NilArray,
            Reply::error("ERR x"),
        ]);
        assert_eq!(
            to_bytes(&r),
            b"*6\r\n+OK\r\n:-3\r\n$4\r\na\r\nb\r\n$-1\r\n*-1\r\n-ERR x\r\n"
        );
    }

    #[test]
    fn replies_round_trip() {
        let r = Reply::Array(vec![
            Reply::ok(),
            Reply::Int(-3),
            Reply::bulk("a\r\nb"),
            Reply::Nil,
            Reply::NilArray,
            Reply::error("ERR x"),
        ]);
        let bytes = to_bytes(&r);
        assert_eq!(parse_reply(&bytes), Ok(Some((r, bytes.len()))));
        assert_eq!(parse_reply(&bytes[..bytes.len() - 1]), Ok(None));
    }

    #[test]
    fn parses_multibulk_and_pipelines() {
        let buf = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n";
        let Ok(Parsed::Request(argv, used)) = parse_request(buf, MAX) else {
            panic!()
        };
        assert_eq!(argv, vec![b"GET".to_vec(), b"a".to_vec()]);
        assert_eq!(
            parse_request(&buf[used..], MAX),
            Ok(Parsed::Request(vec![b"PING".to_vec()], 14))
        );
    }

    #[test]
    fn waits_for_partial_requests() {
        assert!(matches!(
            parse_request(b"*2\r\n$3\r\nGE", MAX),
            Ok(Parsed::Incomplete(_))
        ));
        assert_eq!(
            parse_request(b"*1\r\n$5\r\nab", MAX),
            Ok(Parsed::Incomplete(15))
        );
        assert!(matches!(
            parse_request(b"PING", MAX),
            Ok(Parsed::Incomplete(_))
        ));
    }

    #[test]
    fn inline_requests_use_redis_cli_quoting() {
        let Ok(Parsed::Request(argv, _)) = parse_request(b"SET k \"a b\"\r\n", MAX) else {
            panic!()
        };
        assert_eq!(argv, vec![b"SET".to_vec(), b"k".to_vec(), b"a b".to_vec()]);
        assert_eq!(parse_request(b"\r\n", MAX), Ok(Parsed::Request(vec![], 2)));
    }

    #[test]
    fn protocol_errors_have_redis_texts() {
        let e = |b: &[u8]| parse_request(b, MAX).unwrap_err().0;
        assert_eq!(e(b"*x\r\n"), "Protocol error: invalid multibulk length");
        assert_eq!(e(b"*1\r\n+x\r\n"), "Protocol error: expected '$', got '+'");
        assert_eq!(
            e(b"*1\r\n$1073741824\r\n"),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(e(b"*1\r\n$-1\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(
            e(b"SET k \"a\r\n"),
            "Protocol error: unbalanced quotes in request"
        );
        assert_eq!(
            e(&vec![b'a'; MAX_INLINE + 1]),
            "Protocol error: too big inline request"
        );
    }
}
