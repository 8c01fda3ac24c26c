//! The Redis Lua debugger's human form of a reply (`ldbRedisProtocolToHuman`
//! in Redis's `eval.c`): `43`, `"43"`, `"+OK"`, `"-ERR ..."`, `NULL`,
//! `[1,"a"]`, RESP3's `{"k" => 1}`, `~(...)`, `(double) 1.5`, `#true`,
//! `(null)`. Strings are escaped as `sdscatrepr` does.
//!
//! LDB logs every `redis.call` reply this way, so comparing a reply with
//! the server's means rendering it here; reading one back is exact except
//! that a status and a bulk string with the same `+` text look alike (a
//! quoted `+...` at the top is read as a status, `-...` as an error only
//! where LDB also logged `<error>`).

use crate::protocol::float::format_double;
use crate::protocol::Reply;

/// `sdscatrepr`: quoted, `\\ \" \n \r \t \a \b` escaped, other
/// unprintable bytes as `\xNN`.
pub(crate) fn repr(bytes: &[u8], out: &mut String) {
    out.push('"');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
}

/// The reply as LDB logs it.
pub fn render(reply: &Reply) -> String {
    let mut out = String::new();
    render_into(reply, &mut out);
    out
}

fn render_into(reply: &Reply, out: &mut String) {
    let list = |items: &[Reply], open: &str, close: &str, out: &mut String| {
        out.push_str(open);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            render_into(item, out);
        }
        out.push_str(close);
    };
    match reply {
        Reply::Int(n) => out.push_str(&n.to_string()),
        Reply::Bulk(b) => repr(b, out),
        Reply::Nil | Reply::NilArray => out.push_str("NULL"),
        Reply::Status(s) => repr(&[b"+".as_slice(), s].concat(), out),
        Reply::Error(e) => repr(&[b"-".as_slice(), e].concat(), out),
        Reply::Array(items) | Reply::Push(items) => list(items, "[", "]", out),
        Reply::Set(items) => list(items, "~(", ")", out),
        Reply::Map(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                render_into(k, out);
                out.push_str(" => ");
                render_into(v, out);
            }
            out.push('}');
        }
        Reply::Double(d) => {
            out.push_str("(double) ");
            out.push_str(&format_double(*d));
        }
        Reply::DoubleText(text) => {
            out.push_str("(double) ");
            out.push_str(&String::from_utf8_lossy(text));
        }
        Reply::Bool(b) => out.push_str(if *b { "#true" } else { "#false" }),
        // LDB writes nothing for these; their RESP2 form says more.
        Reply::BigNumber(_) | Reply::Verbatim { .. } => render_into(&reply.to_resp2(), out),
    }
}

/// Reads a logged reply back; None if the text is not one (a trimmed
/// reply ends in ` ...`).
pub fn parse(text: &str) -> Option<Reply> {
    let mut p = Parser {
        s: text.as_bytes(),
        at: 0,
    };
    let reply = p.value(true)?;
    (p.at == p.s.len()).then_some(reply)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn eat(&mut self, what: &str) -> bool {
        if self.s[self.at..].starts_with(what.as_bytes()) {
            self.at += what.len();
            true
        } else {
            false
        }
    }

    fn items(&mut self, close: &str) -> Option<Vec<Reply>> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Some(items);
        }
        loop {
            items.push(self.value(false)?);
            if self.eat(close) {
                return Some(items);
            }
            if !self.eat(",") {
                return None;
            }
        }
    }

    fn value(&mut self, top: bool) -> Option<Reply> {
        if self.eat("NULL") {
            return Some(Reply::Nil);
        }
        if self.eat("(null)") {
            return Some(Reply::Nil);
        }
        if self.eat("#true") {
            return Some(Reply::Int(1));
        }
        if self.eat("#false") {
            return Some(Reply::Int(0));
        }
        if self.eat("(double) ") {
            let start = self.at;
            while self.at < self.s.len()
                && !matches!(self.s[self.at], b',' | b']' | b')' | b'}' | b' ')
            {
                self.at += 1;
            }
            let text = std::str::from_utf8(&self.s[start..self.at]).ok()?;
            return text.parse().ok().map(Reply::Double);
        }
        if self.eat("[") {
            return self.items("]").map(Reply::Array);
        }
        if self.eat("~(") {
            return self.items(")").map(Reply::Set);
        }
        if self.eat("{") {
            let mut pairs = Vec::new();
            if self.eat("}") {
                return Some(Reply::Map(pairs));
            }
            loop {
                let k = self.value(false)?;
                if !self.eat(" => ") {
                    return None;
                }
                pairs.push((k, self.value(false)?));
                if self.eat("}") {
                    return Some(Reply::Map(pairs));
                }
                if !self.eat(",") {
                    return None;
                }
            }
        }
        if self.s.get(self.at) == Some(&b'"') {
            let bytes = self.quoted()?;
            return Some(match bytes.first() {
                Some(b'+') if top => Reply::Status(bytes[1..].to_vec()),
                _ => Reply::Bulk(bytes),
            });
        }
        let start = self.at;
        if self.s.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        while self.s.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        std::str::from_utf8(&self.s[start..self.at])
            .ok()?
            .parse()
            .ok()
            .map(Reply::Int)
    }

    fn quoted(&mut self) -> Option<Vec<u8>> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.at)?;
            self.at += 1;
            match b {
                b'"' => return Some(out),
                b'\\' => {
                    let e = *self.s.get(self.at)?;
                    self.at += 1;
                    out.push(match e {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'a' => 7,
                        b'b' => 8,
                        b'x' => {
                            let hex =
                                std::str::from_utf8(self.s.get(self.at..self.at + 2)?).ok()?;
                            self.at += 2;
                            u8::from_str_radix(hex, 16).ok()?
                        }
                        other => other,
                    });
                }
                other => out.push(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_render_as_ldb_logs_them_and_read_back() {
        let cases: Vec<(Reply, &str)> = vec![
            (Reply::Int(43), "43"),
            (Reply::bulk("43"), "\"43\""),
            (Reply::ok(), "\"+OK\""),
            (Reply::Nil, "NULL"),
            (
                Reply::Array(vec![Reply::Int(1), Reply::bulk("a\"b\n\x01"), Reply::Nil]),
                "[1,\"a\\\"b\\n\\x01\",NULL]",
            ),
            (Reply::Array(vec![]), "[]"),
            (Reply::Double(1.5), "(double) 1.5"),
        ];
        for (reply, text) in cases {
            assert_eq!(render(&reply), text);
            assert_eq!(parse(text), Some(reply), "{text}");
        }
        assert_eq!(render(&Reply::error("ERR x")), "\"-ERR x\"");
        assert_eq!(parse("\"abc\" ..."), None);
    }
}
