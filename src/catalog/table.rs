//! A lookup table of positions: open addressing over `u32` slots, at most
//! half full. The keys are not stored; the caller says whether the thing at
//! a position is the one sought. A million videos cost 8 MiB a table, not
//! the 34 MiB of a `HashMap` from an id to a pointer.

const EMPTY: u32 = u32::MAX;

#[derive(Debug, Default)]
pub struct PosTable {
    slots: Box<[u32]>,
}

impl PosTable {
    /// Room for `n` positions.
    pub fn with_capacity(n: usize) -> Self {
        let len = n.saturating_mul(2).next_power_of_two().max(8);
        PosTable { slots: vec![EMPTY; len].into_boxed_slice() }
    }

    fn start(&self, hash: u64) -> usize {
        // Fibonacci hashing spreads keys whose low bits repeat.
        (hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & (self.slots.len() - 1)
    }

    /// The first position stored under `hash` for which `is` holds.
    pub fn find(&self, hash: u64, is: impl Fn(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.start(hash);
        loop {
            match self.slots[i] {
                EMPTY => return None,
                pos if is(pos) => return Some(pos),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Stores `pos` under `hash` unless a position for which `same` holds is
    /// there already (the first one stored wins). Panics past the capacity.
    pub fn insert(&mut self, hash: u64, pos: u32, same: impl Fn(u32) -> bool) {
        assert!(pos != EMPTY, "a position below u32::MAX");
        let mask = self.slots.len() - 1;
        let mut i = self.start(hash);
        let mut probes = 0;
        loop {
            match self.slots[i] {
                EMPTY => {
                    self.slots[i] = pos;
                    return;
                }
                old if same(old) => return,
                _ => i = (i + 1) & mask,
            }
            probes += 1;
            assert!(probes < self.slots.len(), "a table filled past its capacity");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_stored_and_keeps_the_first() {
        let keys: Vec<u64> = (0..1000u64).map(|k| k * 7919 % 1237).collect();
        let mut table = PosTable::with_capacity(keys.len());
        for (pos, k) in keys.iter().enumerate() {
            table.insert(*k, pos as u32, |p| keys[p as usize] == *k);
        }
        for (pos, k) in keys.iter().enumerate() {
            let found = table.find(*k, |p| keys[p as usize] == *k).unwrap();
            assert_eq!(keys[found as usize], *k);
            assert!(found as usize <= pos, "the first stored wins");
        }
        assert_eq!(table.find(5000, |p| keys[p as usize] == 5000), None);
        // Keys that all collide still work.
        let mut table = PosTable::with_capacity(100);
        for pos in 0..100u32 {
            table.insert(42, pos, |p| p == pos);
        }
        assert_eq!(table.find(42, |p| p == 99), Some(99));
        assert_eq!(PosTable::default().find(1, |_| true), None);
    }
}
