//! Keyspace notifications over real sockets, where timing and other
//! clients matter: the same steps on `redstep serve` and on a real
//! redis-server 7.0.15, comparing what a subscriber receives (the golden
//! cases in `golden.rs` cover every command one client sends).
//!
//! - a blocked BLPOP served by another client's RPUSH: rpush, then the
//!   served client's lpop, then del when the list empties;
//! - a key expired by the server's own cycle, with nobody reading it;
//! - a RESP3 client subscribed to its own key: the push arrives before
//!   the reply to the command that caused it;
//! - a script that writes and then fails: the write is announced.

mod common;
mod real;

use std::time::{Duration, Instant};

use redstep::engine::Reply;

/// One connection, to either server.
trait Wire {
    fn send(&mut self, words: &[&str]);
    fn read(&mut self) -> Reply;
    fn call(&mut self, words: &[&str]) -> Reply {
        self.send(words);
        self.read()
    }
}

impl Wire for common::Client {
    fn send(&mut self, words: &[&str]) {
        self.send_words(words);
    }
    fn read(&mut self) -> Reply {
        common::Client::read(self).expect("a reply")
    }
}

impl Wire for real::Conn {
    fn send(&mut self, words: &[&str]) {
        let argv: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        real::Conn::send(self, &argv);
    }
    fn read(&mut self) -> Reply {
        real::Conn::read(self)
    }
}

type Connect<'a> = &'a dyn Fn() -> Box<dyn Wire>;

fn text(reply: &Reply) -> String {
    match reply {
        Reply::Bulk(b) | Reply::Status(b) => String::from_utf8_lossy(b).into_owned(),
        Reply::Int(n) => n.to_string(),
        Reply::Array(items) | Reply::Push(items) => {
            let inner: Vec<String> = items.iter().map(text).collect();
            let kind = if matches!(reply, Reply::Push(_)) {
                ">"
            } else {
                "*"
            };
            format!("{kind}[{}]", inner.join(" "))
        }
        other => format!("{other:?}"),
    }
}

/// A subscriber to every keyspace channel, with notifications turned on.
fn subscriber(connect: Connect) -> Box<dyn Wire> {
    let mut admin = connect();
    admin.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut sub = connect();
    sub.call(&["PSUBSCRIBE", "__key*__:*"]);
    sub
}

/// The next `n` messages the subscriber gets, as `channel message`.
fn messages(sub: &mut dyn Wire, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| match sub.read() {
            Reply::Array(items) | Reply::Push(items) => {
                format!("{} {}", text(&items[2]), text(&items[3]))
            }
            other => panic!("not a message: {other:?}"),
        })
        .collect()
}

fn wait_blocked(conn: &mut dyn Wire, n: usize) {
    let want = format!("blocked_clients:{n}\r");
    let start = Instant::now();
    while !text(&conn.call(&["INFO", "clients"])).contains(&want) {
        assert!(start.elapsed() < Duration::from_secs(10), "never blocked");
        std::thread::yield_now();
    }
}

fn blocked_pop_served_by_a_push(connect: Connect) -> Vec<String> {
    let mut sub = subscriber(connect);
    let mut waiter = connect();
    waiter.send(&["BLPOP", "q", "0"]);
    let mut pusher = connect();
    wait_blocked(pusher.as_mut(), 1);
    pusher.call(&["RPUSH", "q", "a"]);
    let served = text(&waiter.read());
    pusher.call(&["RPUSH", "q", "b", "c"]);
    pusher.call(&["BLPOP", "q", "0"]);
    let mut out = vec![served];
    out.extend(messages(sub.as_mut(), 10));
    out
}

fn expired_by_the_server(connect: Connect) -> Vec<String> {
    let mut sub = subscriber(connect);
    let mut c = connect();
    c.call(&["SET", "k", "v", "PX", "30"]);
    // Nobody touches k: the server's own expiry cycle deletes it.
    messages(sub.as_mut(), 6)
}

fn resp3_self_subscription(connect: Connect) -> Vec<String> {
    let mut admin = connect();
    admin.call(&["CONFIG", "SET", "notify-keyspace-events", "K$"]);
    let mut c = connect();
    c.call(&["HELLO", "3"]);
    c.call(&["SUBSCRIBE", "__keyspace@0__:x"]);
    c.send(&["SET", "x", "1"]);
    vec![text(&c.read()), text(&c.read())]
}

fn a_failing_script_announces_its_write(connect: Connect) -> Vec<String> {
    let mut sub = subscriber(connect);
    let mut c = connect();
    let script = "redis.call('INCR', KEYS[1]); redis.call('HSET', KEYS[2], 'f', 'v'); \
                  return redis.call('INCR', KEYS[2])";
    let reply = text(&c.call(&["EVAL", script, "2", "a", "b"]));
    let mut out = vec![reply[..reply.find(" script:").unwrap_or(reply.len())].to_string()];
    out.extend(messages(sub.as_mut(), 4));
    out
}

fn compare(scenario: fn(Connect) -> Vec<String>) {
    let Some(mut real) = real::Real::start() else {
        eprintln!("SKIPPED: redis-server is not installed");
        return;
    };
    real.cmd(&["FLUSHALL"]);
    let socket = real.connect_fn();
    let theirs = scenario(&|| Box::new(socket()) as Box<dyn Wire>);
    let addr = common::start();
    let ours = scenario(&|| Box::new(common::Client::connect(addr)) as Box<dyn Wire>);
    assert_eq!(ours, theirs);
    assert!(!ours.is_empty());
}

#[test]
fn a_blocked_pop_served_by_a_push_is_announced_as_in_redis() {
    compare(blocked_pop_served_by_a_push);
}

#[test]
fn a_key_the_server_expires_is_announced_as_in_redis() {
    compare(expired_by_the_server);
}

#[test]
fn a_resp3_client_gets_its_own_notification_before_the_reply() {
    compare(resp3_self_subscription);
}

#[test]
fn a_script_that_fails_after_writing_announces_the_write() {
    compare(a_failing_script_announces_its_write);
}
