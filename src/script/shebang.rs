//! The `#!lua flags=...` first line of a script (Redis's
//! `evalExtractShebangFlags`).

use crate::protocol::cli::split_args;

/// What a script's shebang declares.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ScriptFlags {
    /// No shebang: "compat mode", the pre-7.0 behaviour.
    pub compat: bool,
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot_keys: bool,
}

/// Parses the shebang: the flags and how many bytes the shebang line takes
/// (its newline excluded: the newline stays so line numbers do not move).
pub fn parse(body: &[u8]) -> Result<(ScriptFlags, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((
            ScriptFlags {
                compat: true,
                ..ScriptFlags::default()
            },
            0,
        ));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let parts = match split_args(&body[..end]) {
        Ok(parts) if !parts.is_empty() => parts,
        _ => return Err("Invalid engine in script shebang".into()),
    };
    if parts[0] != b"#!lua" {
        return Err(format!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        ));
    }
    let mut flags = ScriptFlags::default();
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!(
                "Unknown lua shebang option: {}",
                String::from_utf8_lossy(part)
            ));
        };
        if list.is_empty() {
            continue;
        }
        for flag in list.split(|&b| b == b',') {
            match flag {
                b"no-writes" => flags.no_writes = true,
                b"allow-oom" => flags.allow_oom = true,
                b"allow-stale" => flags.allow_stale = true,
                b"no-cluster" => flags.no_cluster = true,
                b"allow-cross-slot-keys" => flags.allow_cross_slot_keys = true,
                other => {
                    return Err(format!(
                        "Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(other)
                    ))
                }
            }
        }
    }
    Ok((flags, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_rules() {
        assert_eq!(
            parse(b"return 1").unwrap(),
            (
                ScriptFlags {
                    compat: true,
                    ..Default::default()
                },
                0
            )
        );
        assert!(
            parse(b"#!lua flags=no-writes\nreturn 1")
                .unwrap()
                .0
                .no_writes
        );
        assert_eq!(
            parse(b"#!lua flags=\nreturn 1").unwrap(),
            (ScriptFlags::default(), 12)
        );
        assert_eq!(parse(b"#!lua").unwrap_err(), "Invalid script shebang");
        assert_eq!(
            parse(b"#!python\nx").unwrap_err(),
            "Unexpected engine in script shebang: #!python"
        );
        assert_eq!(
            parse(b"#!lua name=foo\nx").unwrap_err(),
            "Unknown lua shebang option: name=foo"
        );
        assert_eq!(
            parse(b"#!lua flags=no-writes,\nx").unwrap_err(),
            "Unexpected flag in script shebang: "
        );
        assert!(parse(b"#!lua \"flags=no-writes\"\nx").unwrap().0.no_writes);
        assert_eq!(
            parse(b"#!lua \"unbalanced\nx").unwrap_err(),
            "Invalid engine in script shebang"
        );
    }
}
