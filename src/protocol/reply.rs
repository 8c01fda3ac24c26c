//! The reply of one command, as RESP2 can carry it.

/// A command's reply. Status and error texts are bytes because Redis echoes
/// user input (a command name, a key) into some of them.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Status(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Vec<u8>),
    /// The null bulk string (`$-1`).
    Nil,
    Array(Vec<Reply>),
    /// The null array (`*-1`).
    NilArray,
    /// RESP3 types, produced only for clients speaking RESP3 (a script after
    /// `redis.setresp(3)`); RESP2 sees a flat array, an array, a bulk string.
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Double(f64),
    /// A double sent as this text (addReplyHumanLongDouble: GEOPOS's
    /// coordinates): `,text` in RESP3, a bulk string in RESP2.
    DoubleText(Vec<u8>),
    /// `#t`/`#f` in RESP3, `:1`/`:0` in RESP2 (a script's boolean after
    /// `redis.setresp(3)`).
    Bool(bool),
    /// `(digits` in RESP3, a bulk string in RESP2 (`{big_number=...}`).
    BigNumber(Vec<u8>),
    /// `=len\r\nfmt:text` in RESP3, the text as a bulk string in RESP2.
    Verbatim {
        format: [u8; 3],
        text: Vec<u8>,
    },
    /// Out-of-band data (pub/sub messages): a push in RESP3, an array in RESP2.
    Push(Vec<Reply>),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Status(b"OK".to_vec())
    }

    pub fn status(text: &str) -> Reply {
        Reply::Status(text.as_bytes().to_vec())
    }

    pub fn error(text: impl Into<String>) -> Reply {
        Reply::Error(text.into().into_bytes())
    }

    pub fn bulk(bytes: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(bytes.as_ref().to_vec())
    }

    pub(crate) fn bulk_or_nil(bytes: Option<impl AsRef<[u8]>>) -> Reply {
        match bytes {
            Some(b) => Reply::bulk(b),
            None => Reply::Nil,
        }
    }

    pub fn bulks<I, B>(items: I) -> Reply
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        Reply::Array(items.into_iter().map(Reply::bulk).collect())
    }

    /// The same reply as a RESP2 client receives it.
    pub fn to_resp2(&self) -> Reply {
        match self {
            Reply::Map(pairs) => Reply::Array(
                pairs
                    .iter()
                    .flat_map(|(k, v)| [k.to_resp2(), v.to_resp2()])
                    .collect(),
            ),
            Reply::Set(items) | Reply::Array(items) | Reply::Push(items) => {
                Reply::Array(items.iter().map(Reply::to_resp2).collect())
            }
            Reply::Double(d) => Reply::bulk(super::float::format_double(*d)),
            Reply::DoubleText(text) | Reply::BigNumber(text) | Reply::Verbatim { text, .. } => {
                Reply::Bulk(text.clone())
            }
            Reply::Bool(b) => Reply::Int(i64::from(*b)),
            other => other.clone(),
        }
    }

    /// A type only RESP3 has (a RESP2 client gets [`Reply::to_resp2`] of it).
    pub fn is_resp3(&self) -> bool {
        matches!(
            self,
            Reply::Map(_)
                | Reply::Set(_)
                | Reply::Double(_)
                | Reply::DoubleText(_)
                | Reply::Bool(_)
                | Reply::BigNumber(_)
                | Reply::Verbatim { .. }
                | Reply::Push(_)
        )
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// The error text, if this is an error reply.
    pub fn error_text(&self) -> Option<String> {
        match self {
            Reply::Error(e) => Some(String::from_utf8_lossy(e).into_owned()),
            _ => None,
        }
    }
}
