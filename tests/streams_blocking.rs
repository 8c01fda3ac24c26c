//! XREAD / XREADGROUP with BLOCK for network clients: the same scenarios,
//! each with two or three client sockets, run against `redstep serve` and
//! against a real redis-server 7.0.15, and every reply (and the number of
//! blocked clients at each check) must be the same. Nothing sleeps: a
//! blocking command is sent, then `INFO clients` is polled until the
//! server shows it blocked, and only then does another client write.

mod common;
mod real;

use redstep::engine::Reply;
use redstep::protocol::resp::to_bytes;
use redstep::remote::{Conn, Target};

/// A reply as its RESP bytes (so replies compare byte for byte), readable.
fn resp(reply: &Reply) -> String {
    String::from_utf8_lossy(&to_bytes(reply)).replace("\r\n", " ")
}

/// One step of a scenario.
enum Step {
    /// Client `c` sends a command and reads its reply.
    Call(usize, &'static str),
    /// Client `c` sends a command that blocks; waits until the server
    /// counts `n` blocked clients.
    Block(usize, &'static str, i64),
    /// Client `c` sends a command without waiting for anything.
    Send(usize, &'static str),
    /// Client `c` reads the reply it is owed.
    Read(usize),
    /// The server counts exactly this many blocked clients now.
    Blocked(i64),
}
use Step::*;

fn argv(line: &str) -> Vec<Vec<u8>> {
    line.split(' ').map(|w| w.as_bytes().to_vec()).collect()
}

fn blocked_clients(c: &mut Conn) -> i64 {
    let Reply::Bulk(info) = c.call(&argv("INFO clients")).unwrap() else {
        panic!("INFO answered something else")
    };
    String::from_utf8(info)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Runs a scenario on fresh connections; returns the transcript.
fn run(url: &str, steps: &[Step]) -> Vec<String> {
    let target = Target::parse(url).unwrap();
    let mut control = Conn::open(&target).unwrap();
    common::wait_blocked(&mut control, 0);
    control.call(&argv("FLUSHALL")).unwrap();
    let mut clients: Vec<Conn> = (0..3).map(|_| Conn::open(&target).unwrap()).collect();
    let mut out = Vec::new();
    for step in steps {
        match step {
            Call(c, line) => {
                let reply = clients[*c].call(&argv(line)).unwrap();
                out.push(format!("{c} {line} -> {}", resp(&reply)));
            }
            Block(c, line, n) => {
                clients[*c].send(&argv(line)).unwrap();
                common::wait_blocked(&mut control, *n as usize);
                out.push(format!("{c} {line} -> blocked"));
            }
            Send(c, line) => {
                clients[*c].send(&argv(line)).unwrap();
                out.push(format!("{c} {line} -> sent"));
            }
            Read(c) => {
                let reply = clients[*c].read().unwrap();
                out.push(format!("{c} <- {}", resp(&reply)));
            }
            Blocked(n) => {
                let now = blocked_clients(&mut control);
                out.push(format!("blocked_clients {now}"));
                assert_eq!(now, *n, "blocked clients after {:?}", out);
            }
        }
    }
    out
}

fn scenarios() -> Vec<(&'static str, Vec<Step>)> {
    vec![
        (
            "xread-two-streams",
            vec![
                Block(0, "XREAD BLOCK 0 STREAMS s1 s2 $ $", 1),
                Send(0, "PING"),
                Call(1, "XADD s2 1-1 f v"),
                Read(0),
                Read(0),
                Blocked(0),
            ],
        ),
        (
            "xread-dollar-is-fixed-when-called",
            vec![
                Call(1, "XADD s 5-0 a 1"),
                Block(0, "XREAD COUNT 1 BLOCK 0 STREAMS s $", 1),
                Call(1, "MULTI"),
                Call(1, "XADD s 6-0 x 1"),
                Call(1, "XADD s 7-0 y 1"),
                Call(1, "EXEC"),
                Read(0),
                Call(0, "XREAD BLOCK 0 STREAMS s 6-0"),
                Call(0, "XREAD BLOCK 0 STREAMS s 5-0"),
            ],
        ),
        (
            "xread-stays-blocked-when-deleted-or-retyped",
            vec![
                Call(1, "XADD s 1-0 a 1"),
                Block(0, "XREAD BLOCK 0 STREAMS s $", 1),
                Call(1, "DEL s"),
                Blocked(1),
                Call(1, "SET s str"),
                Blocked(1),
                Call(1, "DEL s"),
                Call(1, "LPUSH s x"),
                Blocked(1),
                Call(1, "DEL s"),
                Call(1, "XADD s 1-0 again 1"),
                Blocked(1),
                Call(1, "XADD s 2-0 b 2"),
                Read(0),
            ],
        ),
        (
            "xreadgroup-unblocked-when-the-key-goes",
            vec![
                Call(2, "XGROUP CREATE k1 g $ MKSTREAM"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS k1 >", 1),
                Call(2, "XINFO CONSUMERS k1 g"),
                Call(2, "DEL k1"),
                Read(0),
                Call(2, "XGROUP CREATE k2 g $ MKSTREAM"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS k2 >", 1),
                Call(2, "SET k2 v"),
                Read(0),
                Call(2, "XGROUP CREATE k3 g $ MKSTREAM"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS k3 >", 1),
                Call(2, "RENAME k3 k3b"),
                Read(0),
                Call(2, "XGROUP CREATE k4 g $ MKSTREAM"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS k4 >", 1),
                Call(2, "PEXPIREAT k4 1"),
                Read(0),
                Call(2, "XGROUP CREATE k5 g $ MKSTREAM"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS k5 >", 1),
                Call(2, "MOVE k5 3"),
                Read(0),
                Call(2, "XGROUP CREATE k6 g $ MKSTREAM"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS k6 >", 1),
                Call(2, "FLUSHALL"),
                Read(0),
                Call(2, "XGROUP CREATE m1 g $ MKSTREAM"),
                Call(2, "XGROUP CREATE m2 g $ MKSTREAM"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS m1 m2 > >", 1),
                Call(2, "DEL m2"),
                Read(0),
                Call(2, "XGROUP CREATE k7 g $ MKSTREAM"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS k7 >", 1),
                Call(2, "MULTI"),
                Call(2, "DEL k7"),
                Call(2, "XGROUP CREATE k7 g $ MKSTREAM"),
                Call(2, "XADD k7 1-0 a b"),
                Call(2, "EXEC"),
                Read(0),
            ],
        ),
        (
            "xreadgroup-group-destroyed-or-replaced",
            vec![
                Call(2, "XGROUP CREATE s g $ MKSTREAM"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", 1),
                Call(2, "XGROUP DESTROY s g"),
                Read(0),
                Call(2, "XGROUP CREATE s g $"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", 1),
                Call(2, "XADD other 1-0 a b"),
                Call(2, "RENAME other s"),
                Read(0),
                Call(2, "XGROUP CREATE t g $ MKSTREAM"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS t >", 1),
                Call(2, "XGROUP CREATE src g 0 MKSTREAM"),
                Call(2, "XADD src 1-0 a b"),
                Call(2, "COPY src t REPLACE"),
                Read(0),
                Call(2, "XGROUP CREATE u g $ MKSTREAM"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS u >", 1),
                Call(2, "MULTI"),
                Call(2, "XGROUP DESTROY u g"),
                Call(2, "XGROUP CREATE u g 0"),
                Call(2, "XADD u 1-0 a b"),
                Call(2, "EXEC"),
                Read(0),
            ],
        ),
        (
            "served-with-nothing-left",
            vec![
                Block(0, "XREAD BLOCK 0 STREAMS s 0-0", 1),
                Call(1, "MULTI"),
                Call(1, "XADD s 1-0 x 1"),
                Call(1, "XDEL s 1-0"),
                Call(1, "EXEC"),
                Read(0),
            ],
        ),
        (
            "timeouts",
            vec![
                Call(2, "XGROUP CREATE s g $ MKSTREAM"),
                Send(0, "XREAD BLOCK 30 STREAMS nothing $"),
                Read(0),
                Send(0, "XREADGROUP GROUP g c BLOCK 30 STREAMS s >"),
                Read(0),
                Call(2, "XINFO GROUPS s"),
                Call(0, "XREADGROUP GROUP g c BLOCK 30 STREAMS s 0"),
            ],
        ),
        (
            "waiters-served-oldest-first",
            vec![
                Call(2, "XGROUP CREATE s g $ MKSTREAM"),
                Block(0, "XREADGROUP GROUP g c1 COUNT 1 BLOCK 0 STREAMS s >", 1),
                Block(1, "XREADGROUP GROUP g c2 COUNT 1 BLOCK 0 STREAMS s >", 2),
                Call(2, "MULTI"),
                Call(2, "XADD s 1-0 x 1"),
                Call(2, "XADD s 2-0 y 2"),
                Call(2, "XADD s 3-0 z 3"),
                Call(2, "EXEC"),
                Read(0),
                Read(1),
                Call(2, "XINFO GROUPS s"),
                Call(2, "XPENDING s g"),
            ],
        ),
        (
            "writes-from-scripts-and-transactions-wake",
            vec![
                Block(0, "XREAD BLOCK 0 STREAMS s $", 1),
                Call(
                    1,
                    "EVAL redis.call('XADD',KEYS[1],'5-5','k','v') 1 s",
                ),
                Read(0),
                Call(1, "XGROUP CREATE s g $"),
                Block(0, "XREADGROUP GROUP g c NOACK BLOCK 0 STREAMS s >", 1),
                Call(1, "MULTI"),
                Call(1, "XADD s 6-0 a b"),
                Call(1, "EXEC"),
                Read(0),
                Call(1, "XPENDING s g"),
                Call(1, "XINFO GROUPS s"),
            ],
        ),
        (
            "block-refused-in-scripts-ignored-in-multi",
            vec![
                Call(1, "XGROUP CREATE s g $ MKSTREAM"),
                Call(0, "MULTI"),
                Call(0, "XREAD BLOCK 0 STREAMS nothing $"),
                Call(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >"),
                Call(0, "EXEC"),
                Call(0, "EVAL return(redis.pcall('XREAD','BLOCK','0','STREAMS','s','$')) 0"),
                Call(
                    0,
                    "EVAL return(redis.pcall('XREADGROUP','GROUP','g','c','BLOCK','0','STREAMS','s','>')) 0",
                ),
                Call(0, "XINFO GROUPS s"),
            ],
        ),
        (
            "other-changes-do-not-wake",
            vec![
                Call(1, "XADD s 1-0 a b"),
                Block(0, "XREAD BLOCK 0 STREAMS s $", 1),
                Call(1, "XSETID s 5-0"),
                Blocked(1),
                Call(1, "XADD s 6-0 x y"),
                Read(0),
                Call(1, "XGROUP CREATE s g $"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", 1),
                Call(1, "XGROUP SETID s g 0"),
                Call(1, "XDEL s 1-0"),
                Call(1, "XGROUP CREATECONSUMER s g other"),
                Blocked(1),
                Call(1, "XADD s 7-0 z z"),
                Read(0),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", 1),
                Call(1, "XACK s g 6-0"),
                Call(1, "XCLAIM s g z 0 7-0 LASTID 9-0"),
                Call(1, "XADD s 8-0 late 1"),
                Blocked(1),
                Call(1, "XADD s 10-0 now 1"),
                Read(0),
            ],
        ),
        (
            "consumers-only-made-when-served",
            vec![
                Call(1, "XGROUP CREATE s g $ MKSTREAM"),
                Call(0, "XREADGROUP GROUP g c STREAMS s >"),
                Call(1, "XINFO GROUPS s"),
                Block(0, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", 1),
                Call(1, "XINFO GROUPS s"),
                Call(1, "XADD s 1-0 a b"),
                Read(0),
                Call(1, "XINFO GROUPS s"),
                Call(0, "XREADGROUP GROUP g c2 STREAMS s 0"),
                Call(1, "XINFO GROUPS s"),
            ],
        ),
    ]
}

#[test]
fn blocking_stream_reads_answer_as_redis_does() {
    let Some(real) = real::Real::start() else {
        eprintln!("skipped: redis-server is not installed");
        return;
    };
    let ours = format!("redis://{}", common::start());
    for (name, steps) in scenarios() {
        let expected = run(&real.url(), &steps);
        let got = run(&ours, &steps);
        assert_eq!(got, expected, "scenario {name}");
    }
}

/// Without a real server: the blocked reader gets exactly the entry
/// written by another client, and the timeout is a nil array.
#[test]
fn xread_block_waits_for_another_clients_xadd() {
    let url = format!("redis://{}", common::start());
    let out = run(
        &url,
        &[
            Block(0, "XREAD BLOCK 0 STREAMS jobs $", 1),
            Call(1, "XADD jobs 1-1 job j1"),
            Read(0),
            Send(0, "XREAD BLOCK 20 STREAMS jobs $"),
            Read(0),
        ],
    );
    assert_eq!(
        out,
        [
            "0 XREAD BLOCK 0 STREAMS jobs $ -> blocked".to_string(),
            "1 XADD jobs 1-1 job j1 -> $3 1-1 ".into(),
            "0 <- *1 *2 $4 jobs *1 *2 $3 1-1 *2 $3 job $2 j1 ".into(),
            "0 XREAD BLOCK 20 STREAMS jobs $ -> sent".into(),
            "0 <- *-1 ".into(),
        ]
    );
}
