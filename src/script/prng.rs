//! Redis's `redisLrand48`: the 48-bit linear congruential generator behind
//! `math.random` in scripts. One generator per process, never reseeded per
//! script and not reset by SCRIPT FLUSH, exactly as Redis 7.0.

use std::cell::Cell;

const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const INCREMENT: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;
pub(crate) const LRAND48_MAX: i32 = i32::MAX;

thread_local! {
    static STATE: Cell<u64> = const { Cell::new(0x1234_ABCD_330E) };
}

/// The next 31-bit value.
pub(crate) fn lrand48() -> i32 {
    STATE.with(|s| {
        let x = s.get().wrapping_mul(MULTIPLIER).wrapping_add(INCREMENT) & MASK;
        s.set(x);
        (x >> 17) as i32
    })
}

/// `redisSrand48`: the seed's 32 bits become the high bits of the state.
pub(crate) fn srand48(seed: i32) {
    STATE.with(|s| s.set(((seed as u32 as u64) << 16) | 0x330E));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_redis_after_randomseed() {
        // From Redis 7.0.15: math.randomseed(0) then math.random(1, 1000) x3 -> 171, 750, 97.
        srand48(0);
        let draws: Vec<i64> = (0..3)
            .map(|_| {
                let r = f64::from(lrand48() % LRAND48_MAX) / f64::from(LRAND48_MAX);
                (r * 1000.0).floor() as i64 + 1
            })
            .collect();
        assert_eq!(draws, vec![171, 750, 97]);
    }
}
