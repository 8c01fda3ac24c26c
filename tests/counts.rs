//! No count, offset or size argument can make the engine panic or build a
//! reply beyond what it needs: every command that takes one is driven with
//! i64::MIN, i64::MAX, -1, 0 and other extremes, on keys of every type.

mod env;

use env::Env;
use redstep::engine::Reply;

const EXTREMES: &[&str] = &[
    "-9223372036854775808",
    "9223372036854775807",
    "-9223372036854775807",
    "-9223372036854770000",
    "-4611686018427387904",
    "-4611686018427387903",
    "4611686018427387904",
    "-1000000000000",
    "1000000000000",
    "4294967296",
    "-1",
    "0",
    "1",
    "536870912",
    "4294967295",
    "18446744073709551616",
];

/// Commands with `{n}` where a count, offset, index, size or time goes.
const TEMPLATES: &[&str] = &[
    "ZRANDMEMBER z {n}",
    "ZRANDMEMBER z {n} WITHSCORES",
    "HRANDFIELD h {n}",
    "HRANDFIELD h {n} WITHVALUES",
    "SRANDMEMBER s {n}",
    "SPOP s {n}",
    "LPOP l {n}",
    "RPOP l {n}",
    "LRANGE l 0 {n}",
    "LRANGE l {n} {n}",
    "LINDEX l {n}",
    "LSET l {n} v",
    "LTRIM l {n} {n}",
    "LPOS l a COUNT {n}",
    "LPOS l a RANK {n}",
    "LPOS l a MAXLEN {n}",
    "LMPOP 1 l LEFT COUNT {n}",
    "ZMPOP 1 z MIN COUNT {n}",
    "ZPOPMIN z {n}",
    "ZPOPMAX z {n}",
    "ZRANGE z 0 {n}",
    "ZRANGE z {n} {n} REV",
    "ZRANGE z -inf +inf BYSCORE LIMIT 0 {n}",
    "ZRANGE z -inf +inf BYSCORE LIMIT {n} {n}",
    "ZRANGEBYSCORE z -inf +inf LIMIT {n} {n}",
    "ZRANGEBYLEX z - + LIMIT {n} {n}",
    "ZRANGESTORE d z 0 {n}",
    "ZREMRANGEBYRANK z {n} {n}",
    "SINTERCARD 1 s LIMIT {n}",
    "ZINTERCARD 1 z LIMIT {n}",
    "SINTERCARD {n} s",
    "ZUNIONSTORE d {n} z",
    "ZINTER {n} z",
    "EVAL return 1 {n}",
    "SCAN 0 COUNT {n}",
    "SSCAN s 0 COUNT {n}",
    "HSCAN h 0 COUNT {n}",
    "ZSCAN z 0 COUNT {n}",
    "SCAN {n}",
    "SORT l LIMIT {n} {n}",
    "SORT l LIMIT 0 {n}",
    "GETRANGE str 0 {n}",
    "GETRANGE str {n} {n}",
    "SETRANGE str {n} x",
    "SETBIT str {n} 1",
    "GETBIT str {n}",
    "BITCOUNT str 0 {n}",
    "BITCOUNT str {n} {n} BIT",
    "BITPOS str 1 0 {n}",
    "BITFIELD str SET u8 {n} 1",
    "BITFIELD str GET i64 {n}",
    "BITFIELD str INCRBY u8 #{n} 1",
    "XRANGE x - + COUNT {n}",
    "XREVRANGE x + - COUNT {n}",
    "XREAD COUNT {n} STREAMS x 0",
    "XREADGROUP GROUP g c COUNT {n} STREAMS x >",
    "XPENDING x g - + {n}",
    "XAUTOCLAIM x g c 0 0 COUNT {n}",
    "XCLAIM x g c {n} 0-1",
    "XTRIM x MAXLEN {n}",
    "XTRIM x MAXLEN ~ {n} LIMIT {n}",
    "XADD x MAXLEN {n} * f v",
    "XINFO STREAM x FULL COUNT {n}",
    "EXPIRE str {n}",
    "PEXPIRE str {n}",
    "EXPIREAT str {n}",
    "SET k v EX {n}",
    "SET k v PX {n}",
    "GETEX str PX {n}",
    "SETEX k {n} v",
    "INCRBY str {n}",
    "DECRBY str {n}",
    "HINCRBY h f {n}",
    "ZINCRBY z {n} a",
    "SELECT {n}",
    "SWAPDB 0 {n}",
    "MOVE str {n}",
    "COPY str k2 DB {n}",
    "OBJECT FREQ str",
    "LINSERT l BEFORE a {n}",
    "BLPOP l {n}",
    "BZPOPMIN z {n}",
    "GEOSEARCH g FROMLONLAT 0 0 BYRADIUS {n} m COUNT {n}",
    "GEORADIUS g 0 0 {n} km COUNT {n}",
    "SRANDMEMBER empty {n}",
    "ZRANDMEMBER empty {n} WITHSCORES",
    "LCS str str MINMATCHLEN {n}",
    "RESTORE k2 {n} abc",
    "PFCOUNT str",
    "CLIENT KILL ID {n}",
    "CLIENT NO-EVICT on",
    "SLOWLOG GET {n}",
    "WAIT {n} {n}",
    "DEBUG SLEEP 0",
];

/// Largest reply a command here may build: far past any key's size.
const MOST_ELEMENTS: usize = 2_000_000;

fn elements(reply: &Reply) -> usize {
    match reply {
        Reply::Array(items) | Reply::Set(items) => {
            items.len() + items.iter().map(elements).sum::<usize>()
        }
        Reply::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| 2 + elements(k) + elements(v))
            .sum(),
        Reply::Bulk(b) => b.len() / 64,
        _ => 0,
    }
}

fn fresh() -> Env {
    let mut env = Env::new();
    for line in [
        "ZADD z 1 a 2 b 3 c",
        "HSET h f v g w",
        "SADD s a b c",
        "RPUSH l a b c",
        "SET str hello",
        "XADD x 1-1 f v",
        "XADD x 2-1 f v",
        "XGROUP CREATE x g 0",
        "XREADGROUP GROUP g c STREAMS x >",
        "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
    ] {
        env.run(line);
    }
    env
}

#[test]
fn every_count_argument_at_its_extremes_is_answered_without_a_panic_or_a_huge_reply() {
    let mut failures = Vec::new();
    for template in TEMPLATES {
        for n in EXTREMES {
            let line = template.replace("{n}", n);
            if std::env::var("COUNTS_VERBOSE").is_ok() {
                eprintln!("{line}");
            }
            let outcome = std::panic::catch_unwind(|| {
                let mut env = fresh();
                env.run(&line)
            });
            match outcome {
                Err(_) => failures.push(format!("{line}: panicked")),
                Ok(reply) if elements(&reply) > MOST_ELEMENTS => {
                    failures.push(format!("{line}: a reply of {} elements", elements(&reply)))
                }
                Ok(_) => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_huge_negative_count_with_scores_is_out_of_range_as_in_redis() {
    let mut env = fresh();
    // Recorded from Redis 7.0.15: -LONG_MAX/2 is the last count it accepts
    // with WITHSCORES / WITHVALUES; i64::MIN is outside the long range.
    for (line, want) in [
        ("ZRANDMEMBER z -9223372036854770000 WITHSCORES", "ERR value is out of range"),
        ("ZRANDMEMBER z -4611686018427387904 WITHSCORES", "ERR value is out of range"),
        ("ZRANDMEMBER z 4611686018427387904 WITHSCORES", "ERR value is out of range"),
        ("HRANDFIELD h -9223372036854770000 WITHVALUES", "ERR value is out of range"),
        ("HRANDFIELD h -9223372036854775808 WITHVALUES", "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"),
        ("ZRANDMEMBER z abc WITHSCOREZ", "ERR value is not an integer or out of range"),
        ("ZRANDMEMBER missing -4611686018427387904 WITHSCORES", "ERR value is out of range"),
    ] {
        assert_eq!(env.run(line), Reply::error(want), "{line}");
    }
}

fn boom(_: &mut redstep::engine::Ctx) -> redstep::engine::CommandResult {
    panic!("on purpose")
}

#[test]
fn a_panicking_command_is_an_error_reply_and_the_engine_goes_on() {
    use redstep::engine::table::CommandSpec;
    let mut env = Env::new();
    env.engine
        .register(CommandSpec::new("boom", 1, 0, (0, 0, 0), boom));
    env.run("SET a 1");
    let reply = env.run("BOOM");
    assert_eq!(
        reply,
        Reply::error("ERR redstep bug: boom panicked (on purpose); what it changed before is kept — please report it")
    );
    assert_eq!(env.run("GET a"), Reply::bulk("1"));
    // Inside a script too: the script gets the error, the engine goes on.
    let reply = env.run("EVAL \"return redis.pcall('BOOM')\" 0");
    assert!(
        reply.error_text().unwrap().contains("boom panicked"),
        "{reply:?}"
    );
    assert_eq!(env.run("INCR a"), Reply::Int(2));
}
