//! The command table: name, arity, flags, key positions and handler of every
//! command. It drives dispatch, arity errors, COMMAND, and the checks
//! scripts need (write commands, commands refused in scripts).

use std::collections::HashMap;

use super::errors;
use super::value::Bytes;
use super::CommandResult;
use super::{Ctx, Reply};

pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub(crate) const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    /// Refused inside scripts.
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub(crate) const LOADING: u32 = 1 << 7;
    pub(crate) const STALE: u32 = 1 << 8;
    pub(crate) const FAST: u32 = 1 << 9;
    pub(crate) const MAY_REPLICATE: u32 = 1 << 10;
    /// Allowed while the connection is subscribed (RESP2).
    pub(crate) const SUBSCRIBED_OK: u32 = 1 << 11;
    /// Runs at once even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
    pub(crate) const NOT_QUEUED: u32 = 1 << 12;
    /// Answered even while a script is busy.
    pub const ALLOW_BUSY: u32 = 1 << 13;
    /// Runs before the client has authenticated (AUTH, HELLO, QUIT, RESET).
    pub const NO_AUTH: u32 = 1 << 14;
    /// Not written to the slow log (EXEC: its commands are, one by one).
    pub(crate) const SKIP_SLOWLOG: u32 = 1 << 15;
    /// Refused inside MULTI (SAVE, SYNC, PSYNC, SHUTDOWN).
    pub const NO_MULTI: u32 = 1 << 16;
    /// Propagates what its commands did, never itself (EXEC, the scripts).
    pub(crate) const NOT_PROPAGATED: u32 = 1 << 17;
}

pub(crate) type HandlerFn = fn(&mut Ctx) -> CommandResult;

#[derive(Clone, Copy)]
pub enum Handler {
    Engine(HandlerFn),
    /// Implemented by the extension passed to `Engine::execute_with`.
    External,
}

#[derive(Clone, Copy)]
pub struct CommandSpec {
    /// Lowercase name (`get`, or `load` for a subcommand).
    pub name: &'static str,
    /// `get`, or `script|load` for a subcommand.
    pub full_name: &'static str,
    /// N: exactly N arguments (command name included); -N: at least N.
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    pub handler: Handler,
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        keys: (i32, i32, i32),
        handler: HandlerFn,
    ) -> Self {
        CommandSpec {
            name,
            full_name: name,
            arity,
            flags,
            first_key: keys.0,
            last_key: keys.1,
            key_step: keys.2,
            handler: Handler::Engine(handler),
            subcommands: &[],
        }
    }

    pub(crate) const fn sub(
        full_name: &'static str,
        name: &'static str,
        arity: i32,
        flags: u32,
        handler: HandlerFn,
    ) -> Self {
        CommandSpec {
            name,
            full_name,
            arity,
            flags,
            first_key: 0,
            last_key: 0,
            key_step: 0,
            handler: Handler::Engine(handler),
            subcommands: &[],
        }
    }

    /// A command with subcommands; `handler` runs when it is called alone
    /// (only COMMAND allows that: arity -1).
    pub(crate) const fn container(
        name: &'static str,
        arity: i32,
        flags: u32,
        subcommands: &'static [CommandSpec],
        handler: HandlerFn,
    ) -> Self {
        CommandSpec {
            name,
            full_name: name,
            arity,
            flags,
            first_key: 0,
            last_key: 0,
            key_step: 0,
            handler: Handler::Engine(handler),
            subcommands,
        }
    }

    /// A container that needs a subcommand (arity -2).
    pub(crate) const fn container_of(
        name: &'static str,
        flags: u32,
        subcommands: &'static [CommandSpec],
    ) -> Self {
        CommandSpec::container(name, -2, flags, subcommands, needs_subcommand)
    }

    pub(crate) const fn external(mut self) -> Self {
        self.handler = Handler::External;
        self
    }

    pub(crate) fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        !((self.arity > 0 && argc != self.arity) || argc < -self.arity)
    }

    pub(crate) fn is_write(&self) -> bool {
        self.flags & flags::WRITE != 0
    }

    /// Whether the command may wait for another client (BLPOP, XREAD
    /// BLOCK, WAIT): Redis's `blocking` flag.
    pub(crate) fn is_blocking(&self) -> bool {
        self.flags & flags::BLOCKING != 0
    }

    /// Whether Redis looks for keys in this command before it runs
    /// (`processCommand`'s cluster check): it has key specs or its keys
    /// move with its arguments.
    pub(crate) fn takes_keys(&self) -> bool {
        super::catalog::catalog()
            .get(self.full_name)
            .is_some_and(|d| !d.key_specs.is_empty() || d.has_flag("movablekeys"))
    }

    /// The key arguments of this call as Redis's `getKeysFromCommand`
    /// finds them (cluster routing): the command's own key function (for
    /// a numkeys, STORE or STREAMS argument), else the key range.
    pub(crate) fn keys<'a>(&self, argv: &'a [Bytes]) -> Vec<&'a [u8]> {
        if let Some(keys) = super::catalog::getkeys_proc(self.full_name, argv) {
            // A call short of its arguments (a script's, traced before
            // its arity is checked) has fewer keys than the function
            // names.
            return keys
                .iter()
                .filter_map(|k| argv.get(k.pos).map(Vec::as_slice))
                .collect();
        }
        if self.first_key <= 0 {
            return Vec::new();
        }
        let argc = argv.len() as i32;
        let last = if self.last_key < 0 {
            argc + self.last_key
        } else {
            self.last_key
        };
        let step = self.key_step.max(1) as usize;
        let positions = (self.first_key..=last).step_by(step);
        // Past the arguments: a command of variable arity reports its own
        // error, so no keys (Redis's getKeysUsingLegacyRangeSpec).
        if positions.clone().any(|i| i >= argc) {
            return Vec::new();
        }
        positions.map(|i| argv[i as usize].as_slice()).collect()
    }
}

fn needs_subcommand(ctx: &mut Ctx) -> CommandResult {
    // Unreachable through lookup: arity -2 refuses a lone container name.
    Err(errors::arity(
        &String::from_utf8_lossy(&ctx.argv[0]).to_ascii_lowercase(),
    ))
}

/// Hashes Redis's own command names (short, fixed, not chosen by a
/// client, so no keyed hash is needed): a byte at a time in a register.
#[derive(Default)]
pub struct NameHasher(u64);

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(7) ^ u64::from(*b);
        }
    }

    fn finish(&self) -> u64 {
        let mixed = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        mixed ^ (mixed >> 29)
    }
}

/// Maps keyed by command names.
pub type NameHash = std::hash::BuildHasherDefault<NameHasher>;

/// A command name compared without regard to ASCII case, as Redis's
/// command dictionary does (`dictSdsKeyCaseCompare`): `INCR` finds `incr`
/// without lowercasing a copy first (this runs for every
/// `redis.call('INCR', ...)`).
#[derive(Eq)]
#[repr(transparent)]
struct Name([u8]);

impl Name {
    fn new(name: &[u8]) -> &Name {
        // SAFETY: `Name` is a transparent wrapper of `[u8]`.
        unsafe { &*(name as *const [u8] as *const Name) }
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // `| 0x20` lowercases a letter and keeps any two bytes that are
        // equal without regard to case equal.
        for b in &self.0 {
            state.write_u8(b | 0x20);
        }
    }
}

pub struct Table {
    commands: HashMap<&'static Name, CommandSpec, NameHash>,
}

impl Table {
    pub fn new() -> Table {
        let mut table = Table {
            commands: HashMap::default(),
        };
        for family in super::commands::FAMILIES {
            for spec in *family {
                table.register(*spec);
            }
        }
        table
    }

    pub fn register(&mut self, spec: CommandSpec) {
        self.commands.insert(Name::new(spec.name.as_bytes()), spec);
    }

    pub fn remove(&mut self, name: &[u8]) {
        self.commands.remove(Name::new(name));
    }

    pub fn len(&self) -> usize {
        self.commands.len()
    }

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &CommandSpec> {
        self.commands.values()
    }

    pub fn get(&self, name: &[u8]) -> Option<&CommandSpec> {
        self.commands.get(Name::new(name))
    }

    /// The command or subcommand argv names (Redis's `lookupCommand`):
    /// None for an unknown command or an unknown subcommand of a container.
    /// A container called alone resolves to itself.
    pub(crate) fn resolve(&self, argv: &[Bytes]) -> Option<&CommandSpec> {
        let spec = self.get(argv.first()?)?;
        if spec.subcommands.is_empty() || argv.len() < 2 {
            return Some(spec);
        }
        spec.subcommands
            .iter()
            .find(|s| s.name.as_bytes().eq_ignore_ascii_case(&argv[1]))
    }

    /// Finds the command (or subcommand) for argv and checks its arity,
    /// with Redis's error texts.
    pub(crate) fn lookup(&self, argv: &[Bytes]) -> Result<&CommandSpec, Reply> {
        let Some(spec) = self.resolve(argv) else {
            return Err(match self.get(&argv[0]) {
                Some(container) => errors::unknown_subcommand(&argv[1], container.name),
                None => errors::unknown_command(argv),
            });
        };
        if !spec.arity_ok(argv.len()) {
            return Err(errors::arity(spec.full_name));
        }
        Ok(spec)
    }
}

impl Default for Table {
    fn default() -> Self {
        Table::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The trace and `probe` ask for the keys of script calls that failed
    /// their arity check: fewer arguments than a key function names.
    #[test]
    fn keys_of_a_call_short_of_arguments() {
        let table = Table::new();
        for name in [
            "set",
            "sort",
            "sort_ro",
            "bitfield",
            "georadius",
            "migrate",
            "get",
        ] {
            let spec = table.get(name.as_bytes()).unwrap();
            assert!(spec.keys(&[name.as_bytes().to_vec()]).is_empty(), "{name}");
        }
    }
}
