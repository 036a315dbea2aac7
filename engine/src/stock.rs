//! Available-to-promise stock, indexed by SKU.
//!
//! In: the network and the inventory rows. Out: [`Stock`], which answers "who holds this
//! SKU, nearest first" through the spatial index, "how many units can location L promise"
//! through a slot per (location, SKU) pair, and takes an order's units atomically.
//!
//! Every listed (location, SKU) pair owns one slot, an atomic counter of units to promise.
//! Planning reads the counters without locks; taking units locks the few stripes the plan
//! touches, in ascending order, checks every quantity and only then subtracts: an order
//! takes all of its units or none, and two orders can never both take the last unit.

use crate::capacity::Capacity;
use crate::geo::{unit_vector, Unit};
use crate::index::{HolderIndex, Point};
use crate::load::inventory::InventoryRecord;
use crate::model::network::Network;
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// A location gets a dense SKU → slot table when it holds at least one SKU in this many
/// of the range, and at least `DENSE_SHARE_MIN` SKUs.
const DENSE_SHARE: usize = 16;
const DENSE_SHARE_MIN: usize = 1024;
const NO_SLOT: u32 = u32::MAX;

/// Lock stripes for taking stock: enough that concurrent orders rarely share one.
const STRIPES: usize = 256;

/// The largest count of units of one (location, SKU) pair: 2^53, the largest whole number
/// that every number the engine writes or reads (JSON, key figures) holds exactly. The
/// loaders refuse larger counts, and [`Stock::adjust`] refuses to go beyond it.
pub const MAX_UNITS: u64 = 1 << 53;

/// What [`Stock::adjust`] did: the pair's units before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adjusted {
    /// Units before the change.
    pub before: u64,
    /// Units after it.
    pub after: u64,
}

impl Adjusted {
    /// Units a removal asked for but did not find (the count stopped at 0).
    pub fn missing(&self, delta: i64) -> u64 {
        (-(i128::from(self.before) + i128::from(delta)))
            .try_into()
            .unwrap_or(0)
    }
}

/// Why [`Stock::adjust`] changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdjustError {
    /// The inventory does not list the (location, SKU) pair.
    Unlisted,
    /// The count would pass [`MAX_UNITS`].
    TooMany {
        /// Units before the change.
        before: u64,
        /// The change asked for.
        delta: i64,
    },
}

impl std::fmt::Display for AdjustError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdjustError::Unlisted => write!(f, "the inventory does not list this location and sku"),
            AdjustError::TooMany { before, delta } => write!(
                f,
                "{before} units {delta:+} would be {}, more than the {MAX_UNITS} units one location can hold of one sku",
                i128::from(*before) + i128::from(*delta)
            ),
        }
    }
}

impl std::error::Error for AdjustError {}

/// Stock of every (location, SKU) pair, safe to read and take from many threads.
#[derive(Debug)]
pub struct Stock {
    sku_ids: FxHashMap<Box<str>, u32>,
    sku_names: Vec<Box<str>>,
    /// Slots of SKU `s` are `sku_start[s]..sku_start[s + 1]`, in the index's leaf order.
    sku_start: Vec<u32>,
    slot_location: Vec<u32>,
    atp: Vec<AtomicU64>,
    /// Per location, its (SKU, slot) pairs sorted by SKU: `loc_start[l]..loc_start[l + 1]`.
    loc_start: Vec<u32>,
    loc_entries: Vec<(u32, u32)>,
    /// For locations that hold a large share of the range (DCs), the slot of every SKU by
    /// SKU id (`NO_SLOT` where none): one memory access instead of a binary search.
    loc_dense: Vec<Option<Box<[u32]>>>,
    pub(crate) index: HolderIndex,
    /// Unit vectors and handling costs of every location, by location index.
    pub(crate) units: Vec<Unit>,
    pub(crate) handling: Vec<f64>,
    stripes: Box<[Mutex<()>]>,
    /// Shipments each location can still send per day.
    pub(crate) capacity: Capacity,
}

impl Stock {
    /// Builds the stock of a network from its inventory rows (see [`crate::load`]).
    ///
    /// Rows must name locations of this network (the loader guarantees it); a repeated
    /// (location, SKU) pair keeps the last row.
    pub fn new(network: &Network, records: &[InventoryRecord]) -> Stock {
        let units: Vec<Unit> = network
            .locations
            .iter()
            .map(|l| unit_vector(l.lat, l.lon))
            .collect();
        let handling: Vec<f64> = network.locations.iter().map(|l| l.handling_cost).collect();

        // SKU ids follow the sorted SKU names, so they do not depend on row order.
        let mut first_seen: FxHashMap<&str, u32> = FxHashMap::default();
        let mut rows: Vec<(u32, u32, u64)> = Vec::with_capacity(records.len());
        for r in records
            .iter()
            .filter(|r| r.location < network.locations.len())
        {
            let next = first_seen.len() as u32;
            let id = *first_seen.entry(r.sku.as_str()).or_insert(next);
            rows.push((id, r.location as u32, r.atp()));
        }
        let mut names: Vec<(&str, u32)> = first_seen.into_iter().collect();
        names.sort_unstable();
        let mut renumber = vec![0u32; names.len()];
        for (sorted, &(_, seen)) in names.iter().enumerate() {
            if let Some(r) = renumber.get_mut(seen as usize) {
                *r = sorted as u32;
            }
        }
        for row in &mut rows {
            row.0 = renumber.get(row.0 as usize).copied().unwrap_or(0);
        }
        // A repeated (location, SKU) pair keeps its last row: a stable sort keeps row order
        // within a pair, then only the last of each run survives.
        rows.sort_by_key(|&(s, l, _)| (s, l));
        let mut kept: Vec<(u32, u32, u64)> = Vec::with_capacity(rows.len());
        for row in rows {
            match kept.last_mut() {
                Some(last) if (last.0, last.1) == (row.0, row.1) => *last = row,
                _ => kept.push(row),
            }
        }
        let rows = kept;
        let sku_ids: FxHashMap<Box<str>, u32> = names
            .iter()
            .enumerate()
            .map(|(i, &(n, _))| (Box::from(n), i as u32))
            .collect();

        let mut sku_start = vec![0usize; names.len() + 1];
        for &(s, _, _) in &rows {
            if let Some(c) = sku_start.get_mut(s as usize + 1) {
                *c += 1;
            }
        }
        for i in 1..sku_start.len() {
            sku_start[i] += sku_start[i - 1];
        }
        let mut points: Vec<Point> = rows
            .iter()
            .map(|&(_, loc, atp)| Point {
                location: loc,
                unit: units.get(loc as usize).copied().unwrap_or([0.0; 3]),
                handling: handling.get(loc as usize).copied().unwrap_or(0.0),
                atp,
            })
            .collect();
        let index = HolderIndex::build(&mut points, &sku_start);

        let mut slot_location = Vec::with_capacity(points.len());
        let mut atp = Vec::with_capacity(points.len());
        let mut by_location: Vec<Vec<(u32, u32)>> = vec![Vec::new(); network.locations.len()];
        for s in 0..names.len() {
            for slot in sku_start[s]..sku_start[s + 1] {
                let (loc, units) = points.get(slot).map_or((0, 0), |p| (p.location, p.atp));
                slot_location.push(loc);
                atp.push(AtomicU64::new(units));
                if let Some(list) = by_location.get_mut(loc as usize) {
                    list.push((s as u32, slot as u32));
                }
            }
        }
        let n_skus = names.len();
        let loc_dense = by_location
            .iter()
            .map(|list| {
                (list.len() >= DENSE_SHARE_MIN && list.len() * DENSE_SHARE >= n_skus).then(|| {
                    let mut dense = vec![NO_SLOT; n_skus].into_boxed_slice();
                    for &(sku, slot) in list {
                        if let Some(d) = dense.get_mut(sku as usize) {
                            *d = slot;
                        }
                    }
                    dense
                })
            })
            .collect();
        let mut loc_start = Vec::with_capacity(by_location.len() + 1);
        let mut loc_entries = Vec::with_capacity(slot_location.len());
        loc_start.push(0);
        for mut list in by_location {
            list.sort_unstable();
            loc_entries.extend(list);
            loc_start.push(loc_entries.len() as u32);
        }

        Stock {
            sku_ids,
            sku_names: names.into_iter().map(|(n, _)| Box::from(n)).collect(),
            sku_start: sku_start.into_iter().map(|x| x as u32).collect(),
            slot_location,
            atp,
            loc_start,
            loc_entries,
            loc_dense,
            index,
            units,
            handling,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            capacity: Capacity::new(network.locations.iter().map(|l| l.daily_capacity)),
        }
    }

    /// Bytes this stock occupies on the heap: units per (location, SKU) pair, the lookups
    /// both ways, the spatial index and the capacity counters (hash maps estimated from
    /// their capacity).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let names: usize = self.sku_names.iter().map(|n| n.len()).sum();
        let ids = self.sku_ids.capacity() * (size_of::<(Box<str>, u32)>() + 1) + names;
        let dense: usize = self
            .loc_dense
            .iter()
            .flatten()
            .map(|d| d.len() * size_of::<u32>())
            .sum();
        ids + self.sku_names.capacity() * size_of::<Box<str>>()
            + names
            + self.sku_start.capacity() * size_of::<u32>()
            + self.slot_location.capacity() * size_of::<u32>()
            + self.atp.capacity() * size_of::<AtomicU64>()
            + self.loc_start.capacity() * size_of::<u32>()
            + self.loc_entries.capacity() * size_of::<(u32, u32)>()
            + self.loc_dense.capacity() * size_of::<Option<Box<[u32]>>>()
            + dense
            + self.index.heap_bytes()
            + self.units.capacity() * size_of::<Unit>()
            + self.handling.capacity() * size_of::<f64>()
            + self.stripes.len() * size_of::<Mutex<()>>()
            + self.capacity.heap_bytes()
    }

    /// The internal id of a SKU, `None` when no location lists it.
    pub(crate) fn sku_id(&self, sku: &str) -> Option<u32> {
        self.sku_ids.get(sku).copied()
    }

    /// How many locations list the SKU (whatever their current stock).
    pub(crate) fn holder_count(&self, sku: u32) -> usize {
        let s = sku as usize;
        match (self.sku_start.get(s), self.sku_start.get(s + 1)) {
            (Some(&a), Some(&b)) => (b - a) as usize,
            _ => 0,
        }
    }

    /// The slots of one SKU.
    pub(crate) fn slots_of(&self, sku: u32) -> std::ops::Range<u32> {
        let s = sku as usize;
        match (self.sku_start.get(s), self.sku_start.get(s + 1)) {
            (Some(&a), Some(&b)) => a..b,
            _ => 0..0,
        }
    }

    /// The slot of a (location, SKU) pair.
    #[inline]
    pub(crate) fn slot(&self, location: u32, sku: u32) -> Option<u32> {
        let l = location as usize;
        if let Some(Some(dense)) = self.loc_dense.get(l) {
            return dense.get(sku as usize).copied().filter(|&s| s != NO_SLOT);
        }
        let (a, b) = (*self.loc_start.get(l)?, *self.loc_start.get(l + 1)?);
        let entries = self.loc_entries.get(a as usize..b as usize)?;
        entries
            .binary_search_by_key(&sku, |&(s, _)| s)
            .ok()
            .and_then(|i| entries.get(i))
            .map(|&(_, slot)| slot)
    }

    /// The SKU id of a slot.
    pub(crate) fn slot_sku(&self, slot: u32) -> Option<u32> {
        // `sku_start` is ascending: the SKU is the last start at or before the slot.
        let after = self.sku_start.partition_point(|&start| start <= slot);
        (after > 0 && (slot as usize) < self.atp.len()).then(|| (after - 1) as u32)
    }

    /// The location of a slot.
    #[inline]
    pub(crate) fn slot_location(&self, slot: u32) -> u32 {
        self.slot_location
            .get(slot as usize)
            .copied()
            .unwrap_or(u32::MAX)
    }

    pub(crate) fn slot_locations(&self) -> &[u32] {
        &self.slot_location
    }

    /// Units a slot can promise now.
    #[inline]
    pub(crate) fn slot_atp(&self, slot: u32) -> u64 {
        self.atp
            .get(slot as usize)
            .map_or(0, |a| a.load(Ordering::Relaxed))
    }

    /// Units that location `location` (index) can promise of `sku` now.
    pub(crate) fn atp_at(&self, location: u32, sku: u32) -> u64 {
        self.slot(location, sku).map_or(0, |s| self.slot_atp(s))
    }

    /// Units that the location with this index can promise of this SKU now.
    pub fn atp(&self, location: usize, sku: &str) -> u64 {
        self.sku_id(sku)
            .map_or(0, |s| self.atp_at(location as u32, s))
    }

    /// Whether the inventory lists this (location index, SKU) pair (whatever its units).
    pub fn lists(&self, location: usize, sku: &str) -> bool {
        self.sku_id(sku)
            .and_then(|s| self.slot(location as u32, s))
            .is_some()
    }

    /// Adds `delta` units to a listed pair (a receipt), or removes them (a correction).
    ///
    /// A removal of more units than the pair holds stops at 0 (planners write `-1e9` to
    /// empty a location); the result says so. A change that would take the count above
    /// [`MAX_UNITS`], or a pair the inventory does not list, changes nothing.
    pub fn adjust(&self, location: usize, sku: &str, delta: i64) -> Result<Adjusted, AdjustError> {
        let Some(slot) = self.sku_id(sku).and_then(|s| self.slot(location as u32, s)) else {
            return Err(AdjustError::Unlisted);
        };
        let Some(a) = self.atp.get(slot as usize) else {
            return Err(AdjustError::Unlisted);
        };
        let _guard = self
            .stripes
            .get(slot as usize % STRIPES)
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner));
        let before = a.load(Ordering::Relaxed);
        // Exact: both terms are far inside i128.
        let exact = i128::from(before) + i128::from(delta);
        if exact > i128::from(MAX_UNITS) {
            return Err(AdjustError::TooMany { before, delta });
        }
        let after = u64::try_from(exact).unwrap_or(0);
        a.store(after, Ordering::Relaxed);
        Ok(Adjusted { before, after })
    }

    /// Units of this SKU that the whole network can promise now (a sum over every holder,
    /// which a `u64` could not always hold).
    pub fn total_atp(&self, sku: &str) -> u128 {
        self.sku_id(sku).map_or(0, |s| {
            self.slots_of(s)
                .map(|slot| u128::from(self.slot_atp(slot)))
                .sum()
        })
    }

    /// Every SKU that some location lists, sorted.
    pub fn skus(&self) -> impl Iterator<Item = &str> {
        self.sku_names.iter().map(|s| &**s)
    }

    /// Takes `qty` units from each slot, all or nothing. Returns false, changing nothing,
    /// when any slot has fewer units than asked.
    pub(crate) fn take(&self, takes: &[(u32, u64)]) -> bool {
        let mut stripes: Vec<usize> = takes.iter().map(|&(s, _)| s as usize % STRIPES).collect();
        stripes.sort_unstable();
        stripes.dedup();
        // Ascending lock order: no two takers can wait on each other.
        let _guards: Vec<_> = stripes
            .iter()
            .filter_map(|&i| self.stripes.get(i))
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
            .collect();
        // INVARIANT: every writer of the touched counters holds their stripes now, so the
        // check and the subtraction below see the same values.
        let enough = takes.iter().all(|&(slot, qty)| {
            let need: u64 = takes.iter().filter(|t| t.0 == slot).map(|t| t.1).sum();
            qty == 0 || self.slot_atp(slot) >= need
        });
        if !enough {
            return false;
        }
        for &(slot, qty) in takes {
            if let Some(a) = self.atp.get(slot as usize) {
                a.fetch_sub(qty, Ordering::Relaxed);
            }
        }
        true
    }
}

impl Stock {
    /// Gives units back to their slots (a released reservation).
    pub(crate) fn give_back(&self, takes: &[(u32, u64)]) {
        for &(slot, qty) in takes {
            if let Some(a) = self.atp.get(slot as usize) {
                let _guard = self
                    .stripes
                    .get(slot as usize % STRIPES)
                    .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner));
                a.fetch_add(qty, Ordering::Relaxed);
            }
        }
    }
}

impl Clone for Stock {
    /// A copy with the same units and shipment counts, independent from now on.
    fn clone(&self) -> Stock {
        Stock {
            sku_ids: self.sku_ids.clone(),
            sku_names: self.sku_names.clone(),
            sku_start: self.sku_start.clone(),
            slot_location: self.slot_location.clone(),
            atp: self
                .atp
                .iter()
                .map(|a| AtomicU64::new(a.load(Ordering::Relaxed)))
                .collect(),
            loc_start: self.loc_start.clone(),
            loc_entries: self.loc_entries.clone(),
            loc_dense: self.loc_dense.clone(),
            index: self.index.clone(),
            units: self.units.clone(),
            handling: self.handling.clone(),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            capacity: self.capacity.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{location, stock};
    use crate::model::network::LocationKind;

    fn one_pair(on_hand: u64) -> Stock {
        let dc = location("DC", LocationKind::Dc, 51.0, 9.0, 1.0, 0);
        let network = Network::new("EUR".into(), vec![dc], vec![]);
        Stock::new(&network, &stock(&[(0, "A", on_hand)]))
    }

    #[test]
    fn adjust_is_exact_refuses_overflow_and_reports_a_stop_at_zero() {
        let stock = one_pair(113);
        // The sequence that once saturated and let 1 unit ship: nothing passes the limit.
        for _ in 0..2 {
            let refused = stock.adjust(0, "A", i64::MAX);
            assert!(
                matches!(refused, Err(AdjustError::TooMany { before: 113, .. })),
                "{refused:?}"
            );
        }
        assert_eq!(
            stock.adjust(0, "A", 2),
            Ok(Adjusted {
                before: 113,
                after: 115
            })
        );
        let to_limit = stock.adjust(0, "A", (MAX_UNITS - 115) as i64);
        assert_eq!(
            to_limit,
            Ok(Adjusted {
                before: 115,
                after: MAX_UNITS
            })
        );
        assert!(stock.adjust(0, "A", 1).is_err());
        // A removal past 0 stops there and says how many units it did not find.
        let back = stock.adjust(0, "A", -(MAX_UNITS as i64) + 100);
        assert_eq!(
            back,
            Ok(Adjusted {
                before: MAX_UNITS,
                after: 100
            })
        );
        let closed = stock.adjust(0, "A", i64::MIN).expect("a listed pair");
        assert_eq!(
            (closed.after, closed.missing(i64::MIN)),
            (0, (1u64 << 63) - 100)
        );
        assert_eq!(stock.adjust(0, "B", 1), Err(AdjustError::Unlisted));
        assert_eq!(stock.adjust(7, "A", 1), Err(AdjustError::Unlisted));
    }
}
