//! CLIENT UNBLOCK, CLIENT KILL and CLIENT LIST ID — what a workshop uses to
//! show blocking and busy servers — on `redstep serve` and on a real
//! redis-server 7.0.15 through the same real sockets (ordered by replies
//! and by polling INFO, never by sleeping).

mod common;
mod real;

use real::Real;
use redstep::engine::Reply;
use redstep::remote::{Conn, Target};

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn story(target: &Target) -> Vec<String> {
    let (mut one, mut admin) = (Conn::open(target).unwrap(), Conn::open(target).unwrap());
    let Reply::Int(id) = one.cmd(&[b"CLIENT", b"ID"]).unwrap() else {
        panic!()
    };
    let id = id.to_string();
    let mut out = Vec::new();
    let mut note = |r: Reply| out.push(format!("{r:?}"));
    one.send(&words(&["BLPOP", "nothing", "0"])).unwrap();
    common::wait_blocked(&mut admin, 1);
    note(admin.call(&words(&["CLIENT", "UNBLOCK", &id])).unwrap());
    note(one.read().unwrap());
    one.send(&words(&["BZPOPMIN", "nothing", "0"])).unwrap();
    common::wait_blocked(&mut admin, 1);
    note(
        admin
            .call(&words(&["CLIENT", "UNBLOCK", &id, "ERROR"]))
            .unwrap(),
    );
    note(one.read().unwrap());
    for c in [
        &["CLIENT", "UNBLOCK", &id][..],
        &["CLIENT", "UNBLOCK", "x"],
        &["CLIENT", "UNBLOCK", &id, "FOO"],
        &["CLIENT", "LIST", "ID", "x"],
        &["CLIENT", "LIST", "ID"],
        &["CLIENT", "KILL", "1.2.3.4:5"],
        &["CLIENT", "KILL", "ID", "0"],
        &["CLIENT", "KILL", "USER", "nobody"],
        &["CLIENT", "KILL", "SKIPME", "maybe"],
        &["CLIENT", "KILL", "ID", "999999"],
    ] {
        note(admin.call(&words(c)).unwrap());
    }
    let Reply::Bulk(list) = admin.call(&words(&["CLIENT", "LIST", "ID", &id])).unwrap() else {
        panic!()
    };
    out.push(format!(
        "{} line(s), this client: {}",
        String::from_utf8_lossy(&list).lines().count(),
        String::from_utf8_lossy(&list).contains(&format!("id={id} "))
    ));
    let mut note = |r: Reply| out.push(format!("{r:?}"));
    note(admin.call(&words(&["CLIENT", "KILL", "ID", &id])).unwrap());
    out.push(format!("killed one reads {:?}", one.read_or_eof().unwrap()));
    out
}

#[test]
fn client_unblock_kill_and_list_as_in_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    let ours = story(&Target::parse(&format!("redis://{addr}")).unwrap());
    let theirs = story(&Target::parse(&real.url()).unwrap());
    assert_eq!(ours, theirs);
}

/// CLIENT KILL TYPE pubsub closes the subscribers and only them.
fn kill_by_type(target: &Target) -> Vec<String> {
    let (mut sub, mut other, mut admin) = (
        Conn::open(target).unwrap(),
        Conn::open(target).unwrap(),
        Conn::open(target).unwrap(),
    );
    let mut out = vec![format!("{:?}", sub.cmd(&[b"SUBSCRIBE", b"ch"]).unwrap())];
    for c in [
        &["CLIENT", "KILL", "TYPE", "pubsub"][..],
        &["CLIENT", "KILL", "TYPE", "pubsub"],
        &["PUBLISH", "ch", "x"],
        &["CLIENT", "KILL", "TYPE", "replica"],
        &["CLIENT", "KILL", "TYPE", "bogus"],
    ] {
        out.push(format!("{:?}", admin.call(&words(c)).unwrap()));
    }
    out.push(format!("subscriber reads {:?}", sub.read_or_eof().unwrap()));
    out.push(format!(
        "the other client: {:?}",
        other.call(&words(&["PING"])).unwrap()
    ));
    out
}

#[test]
fn client_kill_by_type_as_in_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    let ours = kill_by_type(&Target::parse(&format!("redis://{addr}")).unwrap());
    let theirs = kill_by_type(&Target::parse(&real.url()).unwrap());
    assert_eq!(ours, theirs);
    assert_eq!(ours[1], "Int(1)", "{ours:?}");
}
