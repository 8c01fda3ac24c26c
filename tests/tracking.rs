//! CLIENT TRACKING (client-side caching) on `redstep serve` and on a real
//! redis-server 7.0.15 through the same sockets: which reads are
//! remembered (a script's declared keys), the invalidation messages and
//! where they go (RESP3 pushes, a RESP2 subscriber by REDIRECT, a broken
//! redirect), NOLOOP, OPTIN/OPTOUT, BCAST prefixes, flushes, and the
//! message after its own command's reply. Messages are collected by a
//! PING whose PONG comes after them, never by waiting.

mod common;
mod real;

use real::Real;
use redstep::engine::Reply;
use redstep::remote::{Conn, Target};

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// A reply as text.
fn show(r: &Reply) -> String {
    let list = |items: &[Reply]| items.iter().map(show).collect::<Vec<_>>().join(", ");
    match r {
        Reply::Bulk(b) | Reply::Status(b) | Reply::Error(b) | Reply::Verbatim { text: b, .. } => {
            String::from_utf8_lossy(b).into_owned()
        }
        Reply::Int(n) => n.to_string(),
        Reply::Nil | Reply::NilArray => "nil".into(),
        Reply::Array(items) => format!("[{}]", list(items)),
        Reply::Set(items) => format!("set[{}]", list(items)),
        Reply::Push(items) => format!("push[{}]", list(items)),
        Reply::Map(pairs) => {
            let pairs: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", show(k), show(v)))
                .collect();
            format!("{{{}}}", pairs.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// What arrived before a PING's answer (the messages owed so far).
fn messages(c: &mut Conn) -> String {
    c.send(&words(&["PING"])).unwrap();
    let mut got = Vec::new();
    loop {
        let r = c.read().unwrap();
        if r == Reply::Status(b"PONG".to_vec()) {
            return format!("messages: {}", got.join(" | "));
        }
        got.push(show(&r));
    }
}

fn id_of(c: &mut Conn) -> i64 {
    match c.call(&words(&["CLIENT", "ID"])).unwrap() {
        Reply::Int(id) => id,
        other => panic!("{other:?}"),
    }
}

fn story(target: &Target) -> Vec<String> {
    let open = || Conn::open(target).unwrap();
    let (mut a, mut b, mut sub, mut gone) = (open(), open(), open(), open());
    let ids = vec![
        (id_of(&mut a), "A"),
        (id_of(&mut b), "B"),
        (id_of(&mut sub), "SUB"),
        (id_of(&mut gone), "GONE"),
    ];
    let (sub_id, gone_id) = (ids[2].0.to_string(), ids[3].0.to_string());
    let mut out = Vec::new();
    macro_rules! run {
        ($c:expr, $name:expr, $($w:expr),+) => {{
            let w = [$($w),+];
            let reply = $c.call(&words(&w)).unwrap();
            out.push(format!("{} {} -> {}", $name, w.join(" "), show(&reply)));
        }};
    }
    run!(b, "B", "FLUSHALL");
    run!(a, "A", "HELLO", "3", "SETNAME", "a");
    run!(a, "A", "CLIENT", "TRACKING", "on");
    run!(a, "A", "GET", "k1");
    run!(a, "A", "MGET", "k2", "k3");
    run!(a, "A", "INCR", "notread");
    run!(b, "B", "MSET", "k1", "1", "k2", "2", "notread", "5");
    out.push(messages(&mut a));
    run!(b, "B", "SET", "k1", "again");
    out.push(messages(&mut a));
    // Its own write: the message follows the reply.
    run!(a, "A", "GET", "k3");
    run!(a, "A", "SET", "k3", "mine");
    out.push(messages(&mut a));
    // A script's reads remember its declared keys only.
    run!(
        a,
        "A",
        "EVAL",
        "return {redis.call('GET', KEYS[1]), redis.call('GET', 'undeclared')}",
        "1",
        "s1"
    );
    run!(b, "B", "MSET", "s1", "1", "undeclared", "1");
    out.push(messages(&mut a));
    run!(a, "A", "CLIENT", "TRACKINGINFO");
    run!(a, "A", "GET", "f1");
    run!(b, "B", "FLUSHDB");
    out.push(messages(&mut a));
    // NOLOOP: nothing for its own changes.
    run!(a, "A", "CLIENT", "TRACKING", "on", "NOLOOP");
    run!(a, "A", "GET", "n1");
    run!(a, "A", "SET", "n1", "1");
    out.push(messages(&mut a));
    run!(a, "A", "CLIENT", "TRACKING", "on", "OPTIN");
    run!(a, "A", "CLIENT", "TRACKING", "off");
    // OPTIN: only the read after CLIENT CACHING yes.
    run!(a, "A", "CLIENT", "TRACKING", "on", "OPTIN");
    run!(a, "A", "GET", "o1");
    run!(a, "A", "CLIENT", "CACHING", "yes");
    run!(a, "A", "CLIENT", "TRACKINGINFO");
    run!(a, "A", "GET", "o2");
    run!(a, "A", "GET", "o3");
    run!(b, "B", "MSET", "o1", "1", "o2", "1", "o3", "1");
    out.push(messages(&mut a));
    run!(a, "A", "CLIENT", "CACHING", "no");
    run!(a, "A", "CLIENT", "TRACKING", "off");
    // REDIRECT to a RESP2 subscriber: pub/sub messages.
    run!(sub, "SUB", "SUBSCRIBE", "__redis__:invalidate");
    run!(a, "A", "CLIENT", "TRACKING", "on", "REDIRECT", &sub_id);
    run!(a, "A", "GET", "r1");
    run!(b, "B", "SET", "r1", "1");
    out.push(format!("SUB got {}", show(&sub.read().unwrap())));
    if let Reply::Bulk(line) | Reply::Verbatim { text: line, .. } = a
        .call(&words(&["CLIENT", "LIST", "ID", &ids[0].0.to_string()]))
        .unwrap()
    {
        // Only what tracking shows (a Unix socket adds `U` to the flags).
        let line = String::from_utf8_lossy(&line).into_owned();
        let fields: Vec<&str> = line
            .split_whitespace()
            .filter(|f| f.starts_with("flags=") || f.starts_with("redir="))
            .collect();
        out.push(format!(
            "CLIENT LIST: {}",
            fields.join(" ").replace('U', "")
        ));
    }
    run!(a, "A", "CLIENT", "TRACKING", "off");
    // BCAST: one message a prefix, after the command.
    run!(a, "A", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "obj");
    run!(a, "A", "CLIENT", "TRACKINGINFO");
    run!(b, "B", "MSET", "user:2", "a", "user:1", "b", "other", "c", "obj", "d");
    out.push(messages(&mut a));
    run!(a, "A", "SET", "user:3", "x");
    out.push(messages(&mut a));
    run!(a, "A", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "us");
    run!(a, "A", "CLIENT", "TRACKING", "on", "PREFIX", "a");
    run!(a, "A", "CLIENT", "TRACKING", "on");
    run!(a, "A", "CLIENT", "TRACKING", "off");
    // A redirect that went away.
    run!(a, "A", "CLIENT", "TRACKING", "on", "REDIRECT", &gone_id);
    run!(a, "A", "GET", "z1");
    drop(gone);
    common::wait_gone(&mut b, ids[3].0);
    run!(b, "B", "SET", "z1", "1");
    out.push(messages(&mut a));
    run!(a, "A", "CLIENT", "TRACKINGINFO");
    run!(a, "A", "CLIENT", "GETREDIR");
    run!(a, "A", "RESET");
    run!(a, "A", "CLIENT", "GETREDIR");
    // Another client's messages redirected to the one writing: before
    // its reply (Redis writes them into its buffer as the key changes).
    let a_id = ids[0].0.to_string();
    run!(b, "B", "CLIENT", "TRACKING", "on", "REDIRECT", &a_id);
    run!(b, "B", "GET", "rd1");
    run!(a, "A", "HELLO", "3");
    a.send(&words(&["SET", "rd1", "1"])).unwrap();
    let (first, second) = (a.read().unwrap(), a.read().unwrap());
    out.push(format!(
        "A SET rd1 1 -> {} then {}",
        show(&first),
        show(&second)
    ));
    run!(b, "B", "CLIENT", "TRACKING", "off");
    // In a transaction: after EXEC's reply.
    run!(a, "A", "HELLO", "3");
    run!(a, "A", "CLIENT", "TRACKING", "on");
    run!(a, "A", "GET", "m1");
    run!(a, "A", "MULTI");
    run!(a, "A", "SET", "m1", "1");
    run!(a, "A", "EXEC");
    out.push(messages(&mut a));
    run!(a, "A", "CLIENT", "TRACKING", "off");
    // Client ids by name (they differ from one server to the other).
    out.into_iter()
        .map(|line| {
            let mut line = line;
            for (id, name) in &ids {
                for (before, after) in [
                    (format!("REDIRECT {id} "), format!("REDIRECT {name} ")),
                    (format!("redirect: {id},"), format!("redirect: {name},")),
                    (format!("redir={id}"), format!("redir={name}")),
                    (format!("broken, {id}]"), format!("broken, {name}]")),
                    (format!("GETREDIR -> {id}"), format!("GETREDIR -> {name}")),
                    (format!("id: {id},"), format!("id: {name},")),
                ] {
                    line = line.replace(&before, &after);
                }
            }
            line
        })
        .collect()
}

#[test]
fn invalidations_reach_whom_redis_sends_them_to() {
    let addr = common::start();
    let ours = story(&Target::parse(&format!("redis://{addr}")).unwrap());
    let all = ours.join("\n");
    for needle in [
        "messages: push[invalidate, [k1]] | push[invalidate, [k2]]",
        "A SET k3 mine -> OK\nmessages: push[invalidate, [k3]]",
        "messages: push[invalidate, [s1]]\n",
        "messages: push[invalidate, nil]",
        "messages: push[invalidate, [o2]]\n",
        "SUB got [message, __redis__:invalidate, [r1]]",
        "messages: push[invalidate, [obj]] | push[invalidate, [user:1, user:2]]",
        "messages: push[tracking-redir-broken, GONE]",
        "CLIENT LIST: flags=t redir=SUB",
        "A SET rd1 1 -> push[invalidate, [rd1]] then OK",
    ] {
        assert!(all.contains(needle), "{needle} not in\n{all}");
    }
    let Some(real) = Real::start() else { return };
    let theirs = story(&Target::parse(&real.url()).unwrap());
    assert_eq!(ours, theirs);
}
