//! Daily shipment capacity: how many shipments each location can still send on a day.
//!
//! In: the locations' `daily_capacity`. Out: [`Capacity`], which counts shipments per
//! location and calendar day (the UTC date of the order's `placed_at`) as orders are placed.
//! Counts are kept per day, so a location that is full today has room again tomorrow.
//! Locations without a limit cost nothing here.

use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// The day bucket of orders without `placed_at`.
pub(crate) const UNDATED: i32 = i32::MIN;

/// One limited location: its limit, its counts by day, and the count of the day last
/// written, readable without a lock (the router asks for every holder it visits).
#[derive(Debug)]
struct Counter {
    limit: u32,
    by_day: Mutex<FxHashMap<i32, u32>>,
    /// `day << 32 | count` of the last day counted.
    latest: AtomicU64,
    /// Whether any day besides the latest has counts (else other days are known empty).
    other_days: std::sync::atomic::AtomicBool,
}

fn pack(day: i32, count: u32) -> u64 {
    (u64::from(day as u32) << 32) | u64::from(count)
}

/// Shipments sent per limited location and day.
#[derive(Debug, Default)]
pub(crate) struct Capacity {
    /// Per location; `None` for unlimited locations.
    locations: Vec<Option<Counter>>,
}

impl Clone for Capacity {
    fn clone(&self) -> Capacity {
        Capacity {
            locations: self
                .locations
                .iter()
                .map(|l| {
                    l.as_ref().map(|c| Counter {
                        limit: c.limit,
                        by_day: Mutex::new(
                            c.by_day
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .clone(),
                        ),
                        latest: AtomicU64::new(c.latest.load(Ordering::Acquire)),
                        other_days: std::sync::atomic::AtomicBool::new(
                            c.other_days.load(Ordering::Acquire),
                        ),
                    })
                })
                .collect(),
        }
    }
}

impl Capacity {
    pub fn new(limits: impl IntoIterator<Item = Option<u32>>) -> Capacity {
        Capacity {
            locations: limits
                .into_iter()
                .map(|l| {
                    l.map(|limit| Counter {
                        limit,
                        by_day: Mutex::new(FxHashMap::default()),
                        latest: AtomicU64::new(pack(UNDATED, 0)),
                        other_days: std::sync::atomic::AtomicBool::new(false),
                    })
                })
                .collect(),
        }
    }

    /// Bytes of the counters on the heap (day maps estimated from their capacity).
    pub fn heap_bytes(&self) -> usize {
        let days: usize = self
            .locations
            .iter()
            .flatten()
            .map(|c| {
                let map = c.by_day.lock().unwrap_or_else(PoisonError::into_inner);
                map.capacity() * (std::mem::size_of::<(i32, u32)>() + 1)
            })
            .sum();
        self.locations.capacity() * std::mem::size_of::<Option<Counter>>() + days
    }

    /// Shipments the location can still send on `day`; `None` when it has no limit.
    pub fn left(&self, location: u32, day: i32) -> Option<u32> {
        let c = self.locations.get(location as usize)?.as_ref()?;
        let latest = c.latest.load(Ordering::Acquire);
        let used = if (latest >> 32) as u32 == day as u32 {
            latest as u32
        } else if !c.other_days.load(Ordering::Acquire) {
            // Only the latest day has counts, and this is another day.
            0
        } else {
            let by_day = c.by_day.lock().unwrap_or_else(PoisonError::into_inner);
            by_day.get(&day).copied().unwrap_or(0)
        };
        Some(c.limit.saturating_sub(used))
    }

    /// Whether the location is full on `day`.
    #[inline]
    pub fn full(&self, location: u32, day: i32) -> bool {
        self.left(location, day) == Some(0)
    }

    /// Counts one shipment from each location on `day`, all or nothing: false, counting
    /// nothing, when one of them is full. `locations` must not repeat.
    pub fn add(&self, locations: &[u32], day: i32) -> bool {
        let mut sorted: Vec<u32> = locations.to_vec();
        sorted.sort_unstable();
        // Ascending lock order: no two orders can wait on each other.
        let mut guards = Vec::new();
        for &l in &sorted {
            if let Some(Some(c)) = self.locations.get(l as usize) {
                let g = c.by_day.lock().unwrap_or_else(PoisonError::into_inner);
                if g.get(&day).copied().unwrap_or(0) >= c.limit {
                    return false;
                }
                guards.push((c, g));
            }
        }
        for (c, g) in &mut guards {
            let before = c.latest.load(Ordering::Acquire);
            if (before >> 32) as u32 != day as u32 && before as u32 > 0 {
                c.other_days.store(true, Ordering::Release);
            }
            let n = g.entry(day).or_insert(0);
            *n += 1;
            // INVARIANT: written under the day map's lock, so it always equals the map.
            c.latest.store(pack(day, *n), Ordering::Release);
        }
        true
    }

    /// Takes back shipments counted by [`Capacity::add`] (a released reservation, or an
    /// order whose stock could not be taken after all).
    pub fn remove(&self, locations: &[u32], day: i32) {
        for &l in locations {
            if let Some(Some(c)) = self.locations.get(l as usize) {
                let mut g = c.by_day.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(n) = g.get_mut(&day) {
                    *n = n.saturating_sub(1);
                    c.latest.store(pack(day, *n), Ordering::Release);
                }
            }
        }
    }
}

/// The capacity day of an order: days since 1970-01-01 of the UTC date of `placed_at`.
pub(crate) fn day_of(placed_at: Option<&str>) -> i32 {
    placed_at
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| {
            let secs = t.timestamp();
            secs.div_euclid(86_400) as i32
        })
        .unwrap_or(UNDATED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_day_all_or_nothing() {
        let c = Capacity::new([Some(2), None, Some(1)]);
        assert_eq!(
            (c.left(0, 5), c.left(1, 5), c.left(2, 5)),
            (Some(2), None, Some(1))
        );
        assert!(c.add(&[0, 2], 5));
        assert!(!c.add(&[0, 2], 5), "location 2 is full: nothing is counted");
        assert_eq!(c.left(0, 5), Some(1));
        assert!(c.add(&[0, 1], 5));
        assert!(c.full(0, 5));
        assert_eq!(c.left(0, 6), Some(2), "a new day starts empty");
        c.remove(&[0], 5);
        assert_eq!(c.left(0, 5), Some(1));
    }

    #[test]
    fn the_day_is_the_utc_date() {
        let a = day_of(Some("2026-11-23T23:30:00Z"));
        assert_eq!(
            day_of(Some("2026-11-24T00:30:00+02:00")),
            a,
            "22:30 UTC on the 23rd"
        );
        assert_eq!(day_of(Some("2026-11-24T00:00:00Z")), a + 1);
        assert_eq!(day_of(None), UNDATED);
    }
}
