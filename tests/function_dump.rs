//! FUNCTION DUMP / RESTORE with Redis 7.0.15's payloads: the same bytes
//! for one library, payloads moving both ways, policies and errors as the
//! real server answers them.

mod env;
mod real;

use env::Env;
use real::Real;
use redstep::engine::Reply;

const LIB: &str = "#!lua name=mylib\nredis.register_function('f1', function() return 1 end)";
const LIB2: &str =
    "#!lua name=other\nredis.register_function('f2', function(keys, args) return args[1] end)";

fn env_call(env: &mut Env, argv: &[&[u8]]) -> Reply {
    let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
    env.engine.call(&mut env.client, &argv, &mut env.scripting)
}

#[test]
fn function_dump_and_restore_agree_with_redis() {
    let Some(mut real) = Real::start() else {
        return;
    };
    let mut env = Env::new();
    for side in [0, 1] {
        let load = [&b"FUNCTION"[..], b"LOAD", LIB.as_bytes()];
        let reply = if side == 0 {
            real.call(&load.iter().map(|a| a.to_vec()).collect::<Vec<_>>())
        } else {
            env_call(&mut env, &load)
        };
        assert_eq!(reply, Reply::bulk("mylib"));
    }
    let theirs = real.cmd(&["FUNCTION", "DUMP"]);
    let ours = env_call(&mut env, &[b"FUNCTION", b"DUMP"]);
    assert_eq!(ours, theirs, "one library dumps to the same bytes");
    let Reply::Bulk(payload) = theirs else {
        panic!()
    };
    let cases: Vec<Vec<Vec<u8>>> = vec![
        vec![b"FUNCTION".to_vec(), b"RESTORE".to_vec(), payload.clone()],
        vec![
            b"FUNCTION".to_vec(),
            b"RESTORE".to_vec(),
            payload.clone(),
            b"APPEND".to_vec(),
        ],
        vec![
            b"FUNCTION".to_vec(),
            b"RESTORE".to_vec(),
            payload.clone(),
            b"REPLACE".to_vec(),
        ],
        vec![
            b"FUNCTION".to_vec(),
            b"RESTORE".to_vec(),
            payload.clone(),
            b"bad".to_vec(),
        ],
        vec![b"FUNCTION".to_vec(), b"RESTORE".to_vec(), b"xx".to_vec()],
        vec![
            b"FUNCTION".to_vec(),
            b"RESTORE".to_vec(),
            [&payload[..payload.len() - 1], b"x"].concat(),
        ],
        vec![
            b"FUNCTION".to_vec(),
            b"RESTORE".to_vec(),
            payload.clone(),
            b"APPEND".to_vec(),
            b"X".to_vec(),
        ],
        vec![b"FUNCTION".to_vec(), b"RESTORE".to_vec()],
        vec![b"FUNCTION".to_vec(), b"DUMP".to_vec(), b"x".to_vec()],
        vec![
            b"FUNCTION".to_vec(),
            b"LOAD".to_vec(),
            LIB2.as_bytes().to_vec(),
        ],
        vec![
            b"FUNCTION".to_vec(),
            b"RESTORE".to_vec(),
            payload.clone(),
            b"FLUSH".to_vec(),
        ],
        vec![b"FUNCTION".to_vec(), b"LIST".to_vec()],
        vec![b"FCALL".to_vec(), b"f1".to_vec(), b"0".to_vec()],
        vec![
            b"FCALL".to_vec(),
            b"f2".to_vec(),
            b"0".to_vec(),
            b"a".to_vec(),
        ],
        vec![b"FUNCTION".to_vec(), b"FLUSH".to_vec()],
        vec![b"FUNCTION".to_vec(), b"DUMP".to_vec()],
    ];
    for argv in &cases {
        let theirs = real.call(argv);
        let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        // As a RESP2 client reads it (FUNCTION LIST is maps, flat in RESP2).
        let ours = env_call(&mut env, &refs).to_resp2();
        assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(&argv[1]));
    }
    // Ours restores there: two libraries dumped here load on Redis.
    env_call(&mut env, &[b"FUNCTION", b"LOAD", LIB.as_bytes()]);
    env_call(&mut env, &[b"FUNCTION", b"LOAD", LIB2.as_bytes()]);
    let Reply::Bulk(ours) = env_call(&mut env, &[b"FUNCTION", b"DUMP"]) else {
        panic!()
    };
    assert_eq!(
        real.call(&[b"FUNCTION".to_vec(), b"RESTORE".to_vec(), ours]),
        Reply::ok()
    );
    assert_eq!(real.cmd(&["FCALL", "f2", "0", "hi"]), Reply::bulk("hi"));
}
