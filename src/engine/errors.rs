//! Every error text the engine sends, exactly as Redis 7.0 words it.

use super::Reply;

pub(crate) const WRONGTYPE: &str =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
pub(crate) const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub(crate) const NOT_FLOAT: &str = "ERR value is not a valid float";
pub(crate) const SYNTAX: &str = "ERR syntax error";
pub(crate) const NO_SUCH_KEY: &str = "ERR no such key";
pub(crate) const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub(crate) const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
pub(crate) const DB_INDEX: &str = "ERR DB index is out of range";
pub(crate) const NAN_OR_INFINITY: &str = "ERR increment would produce NaN or Infinity";
pub(crate) const HASH_NOT_INTEGER: &str = "ERR hash value is not an integer";
pub(crate) const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
pub(crate) const MIN_MAX_NOT_FLOAT: &str = "ERR min or max is not a float";
pub(crate) const MIN_MAX_NOT_LEX: &str = "ERR min or max not valid string range item";
pub(crate) const SCORE_NAN: &str = "ERR resulting score is not a number (NaN)";
pub(crate) const OFFSET_RANGE: &str = "ERR offset is out of range";
pub(crate) const STRING_TOO_LONG: &str =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub(crate) const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
pub(crate) const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub(crate) const TIMEOUT_OUT_OF_RANGE: &str = "ERR timeout is out of range";
pub(crate) const SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub(crate) const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
pub(crate) const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";
pub(crate) const DISCARD_WITHOUT_MULTI: &str = "ERR DISCARD without MULTI";
pub(crate) const MULTI_NESTED: &str = "ERR MULTI calls can not be nested";
pub(crate) const WATCH_IN_MULTI: &str = "ERR WATCH inside MULTI is not allowed";
pub(crate) const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
pub const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";
pub(crate) const NUMKEYS_ZERO: &str = "ERR numkeys should be greater than 0";

pub(crate) fn err(text: &str) -> Reply {
    Reply::error(text)
}

pub(crate) fn arity(name: &str) -> Reply {
    Reply::error(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

/// `ERR unknown command 'x', with args beginning with: 'a' 'b' `, cut as
/// Redis cuts it (name to 128 bytes, arguments while the list is under
/// 128; each a C string: `%.128s` stops at a NUL).
pub(crate) fn unknown_command(argv: &[Vec<u8>]) -> Reply {
    let mut args: Vec<u8> = Vec::new();
    for arg in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        let arg = c_str(arg);
        args.push(b'\'');
        args.extend_from_slice(&arg[..arg.len().min(room)]);
        args.extend_from_slice(b"' ");
    }
    let name = c_str(&argv[0]);
    let name = &name[..name.len().min(128)];
    let mut text = b"ERR unknown command '".to_vec();
    text.extend_from_slice(name);
    text.extend_from_slice(b"', with args beginning with: ");
    text.extend_from_slice(&args);
    Reply::Error(sanitize(text))
}

/// `ERR unknown subcommand 'x'. Try CONFIG HELP.`: the subcommand a C
/// string of 128 bytes at most, as Redis formats it.
pub(crate) fn unknown_subcommand(sub: &[u8], command: &str) -> Reply {
    let sub = c_str(sub);
    let mut text = b"ERR unknown subcommand '".to_vec();
    text.extend_from_slice(&sub[..sub.len().min(128)]);
    text.extend_from_slice(format!("'. Try {} HELP.", command.to_ascii_uppercase()).as_bytes());
    Reply::Error(sanitize(text))
}

/// Redis's addReplySubcommandSyntaxError: the subcommand as typed (a C
/// string of 128 bytes at most) and the command in capitals.
pub(crate) fn subcommand_syntax(sub: &[u8], command: &str) -> Reply {
    let sub = c_str(sub);
    let mut text = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    text.extend_from_slice(&sub[..sub.len().min(128)]);
    text.extend_from_slice(format!("'. Try {} HELP.", command.to_ascii_uppercase()).as_bytes());
    Reply::Error(sanitize(text))
}

/// Redis replaces CR and LF in formatted errors with spaces.
pub(crate) fn sanitize(mut text: Vec<u8>) -> Vec<u8> {
    for b in text.iter_mut() {
        if *b == b'\r' || *b == b'\n' {
            *b = b' ';
        }
    }
    text
}

/// The bytes a C string holds: up to the first NUL (Redis formats script
/// error and status texts with `%s`).
pub(crate) fn c_str(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(nul) => &bytes[..nul],
        None => bytes,
    }
}

/// A script's `{err = msg}` reply as Redis builds it
/// (`addReplyErrorFormat(c, "-%s", msg)`): cut at the first NUL, CR and
/// LF trimmed from the end, the others made spaces.
pub(crate) fn error_from_table(msg: &[u8]) -> Vec<u8> {
    let msg = c_str(msg);
    let end = msg
        .iter()
        .rposition(|&b| b != b'\r' && b != b'\n')
        .map_or(0, |p| p + 1);
    sanitize(msg[..end].to_vec())
}

/// Most elements a reply of repeated random picks (a negative count to
/// SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) may hold. Redis builds any number
/// and runs out of memory on a large one; redstep refuses past this.
pub(crate) const MOST_PICKS: u64 = 1_000_000;

/// The refusal of a reply of `n` repeated picks.
pub(crate) fn too_many_picks(n: u64) -> String {
    format!(
        "ERR redstep: this reply would hold {n} random picks; redstep stops at {MOST_PICKS} (Redis would try to build them all and can run out of memory)"
    )
}
