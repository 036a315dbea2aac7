//! A small seeded mutator for the fuzz entry points' smoke tests: random bytes, and seeds
//! changed the way a fuzzer would (bit flips, deleted, repeated or spliced ranges,
//! interesting tokens and numbers), so a run is the same on every machine.
#![allow(dead_code, reason = "each test binary uses a part of it")]

/// Tokens that tend to reach corners of the loaders and the rule language.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"\n",
    b"\r\n",
    b"\t",
    b" ",
    b"#",
    b"null",
    b"true",
    b"0",
    b"-1",
    b"-0",
    b"0.5",
    b"1e308",
    b"1e999",
    b"-1e308",
    b"NaN",
    b"inf",
    b"4294967295",
    b"4294967296",
    b"9007199254740993",
    b"18446744073709551615",
    b"18446744073709551616",
    b"-9223372036854775808",
    b"90.0000001",
    b"180",
    b"\"\"",
    b"\\u0000",
    b"\\ud800",
    b"\xEF\xBB\xBF",
    b"\xFF",
    b"\xC3\xA9",
    b"\xF0\x9F\x93\xA6",
    b"2026-11-23T09:15:00Z",
    b"2026-02-30T25:61:00+14:00",
    b"pickup",
    b"ship",
    b"store",
    b"dc",
    b"dropship",
    b"ST-MUNICH",
    b"DC-KASSEL",
    b"TSHIRT-M",
    b"strategy \"x\" { candidates all }\n",
    b"exclude store when ",
    b"distance > 100 km",
    b"score ",
    b"cost",
    b"atp - line.qty < 2",
    b" and ",
    b" or not ",
    b"(",
    b")",
    b" ? ",
    b"split at most 0",
    b"fallback \"x\"",
    b"EUR",
    b"script f() -> number { 1 }",
];

/// A xorshift generator: deterministic, so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Up to `max` random bytes.
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// `seed` with one to eight random changes; `other` is spliced in sometimes.
    pub fn mutate(&mut self, seed: &[u8], other: &[u8]) -> Vec<u8> {
        let mut data = seed.to_vec();
        for _ in 0..1 + self.below(8) {
            let at = self.below(data.len() + 1);
            match self.below(7) {
                0 if !data.is_empty() => {
                    let i = self.below(data.len());
                    data[i] ^= 1 << self.below(8);
                }
                1 if !data.is_empty() => {
                    let end = (at + 1 + self.below(16)).min(data.len());
                    data.drain(at.min(end)..end);
                }
                2 => {
                    let token = TOKENS[self.below(TOKENS.len())];
                    data.splice(at..at, token.iter().copied());
                }
                3 if !data.is_empty() => {
                    let end = (at + 1 + self.below(64)).min(data.len());
                    let start = at.min(end);
                    let chunk = data[start..end].to_vec();
                    data.splice(end..end, chunk);
                }
                4 if !other.is_empty() => {
                    let from = self.below(other.len());
                    let to = (from + 1 + self.below(128)).min(other.len());
                    data.splice(at..at, other[from..to].iter().copied());
                }
                5 => {
                    // Replace a number-like run by an interesting number.
                    let token = TOKENS[14 + self.below(16)];
                    let end = data[at..]
                        .iter()
                        .position(|b| !b.is_ascii_digit() && *b != b'.')
                        .map_or(data.len(), |p| at + p);
                    data.splice(at..end, token.iter().copied());
                }
                _ => data.truncate(at),
            }
        }
        data
    }
}

/// Runs `target` on `rounds` random inputs and `rounds` mutations of each seed.
pub fn smoke(target: fn(&[u8]), seeds: &[Vec<u8>], rounds: usize, seed: u64) {
    let mut rng = Rng(seed);
    for _ in 0..rounds {
        let data = rng.bytes(256);
        target(&data);
    }
    for (i, s) in seeds.iter().enumerate() {
        target(s);
        let other = &seeds[(i + 1) % seeds.len()];
        for _ in 0..rounds {
            let data = rng.mutate(s, other);
            target(&data);
        }
    }
}
