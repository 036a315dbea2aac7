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
//!
//! Beside the counter a slot keeps its book (units reserved, safety stock, and how far
//! on hand falls short of both), written only by reservations and stock movements, so
//! that on hand, reserved and safety stock can be told apart without the hot path paying
//! for them: on hand is `atp + reserved + safety - shortfall`.

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

/// The book of one slot beside its ATP counter. Written under the slot's stripe lock.
#[derive(Debug, Default)]
struct Book {
    reserved: AtomicU64,
    safety: AtomicU64,
    /// `reserved + safety - on_hand` when positive (ATP is then 0), else 0.
    shortfall: AtomicU64,
}

/// On hand, reserved and safety stock of one (location, SKU) pair, and the ATP they give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct StockFigures {
    /// Units on the shelf.
    pub on_hand: u64,
    /// Units held for orders (reservations and what the inventory listed as reserved).
    pub reserved: u64,
    /// Units kept back as a buffer.
    pub safety_stock: u64,
    /// Available to promise: `max(0, on_hand - reserved - safety_stock)`.
    pub atp: u64,
}

impl StockFigures {
    /// The figures of these three counts, with the ATP they give.
    pub fn new(on_hand: u64, reserved: u64, safety_stock: u64) -> StockFigures {
        StockFigures {
            on_hand,
            reserved,
            safety_stock,
            atp: on_hand
                .saturating_sub(reserved)
                .saturating_sub(safety_stock),
        }
    }
}

/// Which count of a pair a change writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count {
    OnHand,
    Safety,
}

/// A change of one count, checked before it is written (see [`Stock::change`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CountChange {
    /// Add (or remove) units; a removal past 0 is refused.
    Delta(i64),
    /// Set the count, if it is `expected` now (when given).
    Set { value: u64, expected: Option<u64> },
}

/// Why [`Stock::change`] changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CountError {
    Unlisted,
    Expected { current: u64 },
    Negative { current: u64 },
    Overflow { current: u64 },
}

/// The value a change gives a count of `f`, or why it is refused.
pub(crate) fn check_change(
    f: &StockFigures,
    count: Count,
    change: CountChange,
) -> Result<u64, CountError> {
    let current = match count {
        Count::OnHand => f.on_hand,
        Count::Safety => f.safety_stock,
    };
    let value = match change {
        CountChange::Delta(d) => {
            let exact = i128::from(current) + i128::from(d);
            if exact < 0 {
                return Err(CountError::Negative { current });
            }
            u64::try_from(exact).map_err(|_| CountError::Overflow { current })?
        }
        CountChange::Set { value, expected } => {
            if expected.is_some_and(|e| e != current) {
                return Err(CountError::Expected { current });
            }
            value
        }
    };
    if value > MAX_UNITS {
        return Err(CountError::Overflow { current });
    }
    Ok(value)
}

/// Stock of every (location, SKU) pair, safe to read and take from many threads.
#[derive(Debug)]
pub struct Stock {
    sku_ids: FxHashMap<Box<str>, u32>,
    sku_names: Vec<Box<str>>,
    /// Slots of SKU `s` are `sku_start[s]..sku_start[s + 1]`, in the index's leaf order.
    sku_start: Vec<u32>,
    slot_location: Vec<u32>,
    atp: Vec<AtomicU64>,
    /// Reserved, safety stock and shortfall per slot (see [`Book`]).
    book: Vec<Book>,
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
        let mut rows: Vec<(u32, u32, [u64; 3])> = Vec::with_capacity(records.len());
        for r in records
            .iter()
            .filter(|r| r.location < network.locations.len())
        {
            let next = first_seen.len() as u32;
            let id = *first_seen.entry(r.sku.as_str()).or_insert(next);
            rows.push((
                id,
                r.location as u32,
                [r.on_hand, r.reserved, r.safety_stock],
            ));
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
        let mut kept: Vec<(u32, u32, [u64; 3])> = Vec::with_capacity(rows.len());
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
            .map(|&(_, loc, [on_hand, reserved, safety])| Point {
                location: loc,
                unit: units.get(loc as usize).copied().unwrap_or([0.0; 3]),
                handling: handling.get(loc as usize).copied().unwrap_or(0.0),
                atp: StockFigures::new(on_hand, reserved, safety).atp,
                kind: network
                    .locations
                    .get(loc as usize)
                    .map_or(0, |l| crate::index::kind_number(l.kind)),
            })
            .collect();
        let index = HolderIndex::build(&mut points, &sku_start);

        let mut slot_location = Vec::with_capacity(points.len());
        let mut atp = Vec::with_capacity(points.len());
        let mut book = Vec::with_capacity(points.len());
        let mut by_location: Vec<Vec<(u32, u32)>> = vec![Vec::new(); network.locations.len()];
        for s in 0..names.len() {
            for slot in sku_start[s]..sku_start[s + 1] {
                let (loc, units) = points.get(slot).map_or((0, 0), |p| (p.location, p.atp));
                slot_location.push(loc);
                atp.push(AtomicU64::new(units));
                // The index reorders a SKU's holders; its row is found by (SKU, location).
                let [on_hand, reserved, safety] = rows
                    .binary_search_by_key(&(s as u32, loc), |&(s, l, _)| (s, l))
                    .ok()
                    .and_then(|i| rows.get(i))
                    .map_or([0; 3], |r| r.2);
                let shortfall =
                    (u128::from(reserved) + u128::from(safety)).saturating_sub(u128::from(on_hand));
                book.push(Book {
                    reserved: AtomicU64::new(reserved),
                    safety: AtomicU64::new(safety),
                    shortfall: AtomicU64::new(u64::try_from(shortfall).unwrap_or(u64::MAX)),
                });
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
            book,
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
            + self.book.capacity() * size_of::<Book>()
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

    /// Units every slot can promise now, by slot.
    pub(crate) fn atp_cells(&self) -> &[AtomicU64] {
        &self.atp
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
        // ATP moves exactly as asked; on hand follows (reserved and safety stock stay).
        if let Some(f) = self.read_figures(slot) {
            let on_hand = if after > 0 {
                after
                    .saturating_add(f.reserved)
                    .saturating_add(f.safety_stock)
            } else {
                f.on_hand.saturating_sub(before)
            };
            self.write_figures(slot, on_hand, f.reserved, f.safety_stock);
        }
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
    #[inline]
    pub(crate) fn take(&self, takes: &[(u32, u64)]) -> bool {
        self.take_inner(takes, false)
    }

    /// [`Stock::take`], and the units taken counted as reserved in the same step (a
    /// reservation: they stay on hand until it is confirmed).
    pub(crate) fn take_held(&self, takes: &[(u32, u64)]) -> bool {
        self.take_inner(takes, true)
    }

    #[inline(always)]
    fn take_inner(&self, takes: &[(u32, u64)], hold: bool) -> bool {
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
            if hold {
                if let Some(b) = self.book.get(slot as usize) {
                    b.reserved.fetch_add(qty, Ordering::Relaxed);
                }
            }
        }
        true
    }
}

/// What a held unit becomes when its reservation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settle {
    /// Confirmed: it leaves on hand and reserved.
    Ship,
    /// Released or expired: back to ATP.
    Free,
    /// A consumed unit given back (an undone take): back on hand.
    Return,
}

impl Stock {
    /// The figures of a slot now (read under its stripe by writers, so they agree).
    fn read_figures(&self, slot: u32) -> Option<StockFigures> {
        let atp = self.atp.get(slot as usize)?.load(Ordering::Relaxed);
        let b = self.book.get(slot as usize)?;
        let reserved = b.reserved.load(Ordering::Relaxed);
        let safety = b.safety.load(Ordering::Relaxed);
        let shortfall = b.shortfall.load(Ordering::Relaxed);
        let on_hand = (u128::from(atp) + u128::from(reserved) + u128::from(safety))
            .saturating_sub(u128::from(shortfall));
        Some(StockFigures {
            on_hand: u64::try_from(on_hand).unwrap_or(u64::MAX),
            reserved,
            safety_stock: safety,
            atp,
        })
    }

    /// Writes a slot's three counts (its stripe held): ATP and shortfall follow.
    fn write_figures(&self, slot: u32, on_hand: u64, reserved: u64, safety: u64) -> StockFigures {
        let f = StockFigures::new(on_hand, reserved, safety);
        if let (Some(a), Some(b)) = (self.atp.get(slot as usize), self.book.get(slot as usize)) {
            let short =
                (u128::from(reserved) + u128::from(safety)).saturating_sub(u128::from(on_hand));
            a.store(f.atp, Ordering::Relaxed);
            b.reserved.store(reserved, Ordering::Relaxed);
            b.safety.store(safety, Ordering::Relaxed);
            b.shortfall
                .store(u64::try_from(short).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
        f
    }

    fn lock_slot(&self, slot: u32) -> Option<std::sync::MutexGuard<'_, ()>> {
        self.stripes
            .get(slot as usize % STRIPES)
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The slot of a (location index, SKU name) pair.
    pub(crate) fn slot_of(&self, location: u32, sku: &str) -> Option<u32> {
        self.sku_id(sku).and_then(|s| self.slot(location, s))
    }

    /// On hand, reserved, safety stock and ATP of a listed (location index, SKU) pair.
    pub fn figures(&self, location: usize, sku: &str) -> Option<StockFigures> {
        let slot = self.slot_of(u32::try_from(location).ok()?, sku)?;
        let _guard = self.lock_slot(slot);
        self.read_figures(slot)
    }

    /// Every location index that lists the SKU, with its figures, in location order.
    pub fn availability(&self, sku: &str) -> Vec<(usize, StockFigures)> {
        let Some(s) = self.sku_id(sku) else {
            return Vec::new();
        };
        let mut out: Vec<(usize, StockFigures)> = self
            .slots_of(s)
            .filter_map(|slot| {
                let _guard = self.lock_slot(slot);
                Some((self.slot_location(slot) as usize, self.read_figures(slot)?))
            })
            .collect();
        out.sort_unstable_by_key(|&(l, _)| l);
        out
    }

    /// Ends held or consumed units (see [`Settle`]), slot by slot.
    pub(crate) fn settle(&self, takes: &[(u32, u64)], how: Settle) {
        for &(slot, qty) in takes {
            let _guard = self.lock_slot(slot);
            let Some(f) = self.read_figures(slot) else {
                continue;
            };
            let (on_hand, reserved) = match how {
                Settle::Ship => (
                    f.on_hand.saturating_sub(qty),
                    f.reserved.saturating_sub(qty),
                ),
                Settle::Free => (f.on_hand, f.reserved.saturating_sub(qty)),
                Settle::Return => (f.on_hand.saturating_add(qty).min(MAX_UNITS), f.reserved),
            };
            self.write_figures(slot, on_hand, reserved, f.safety_stock);
        }
    }

    /// Changes on hand or safety stock of a slot, checked first: a removal past 0, a count
    /// above [`MAX_UNITS`] or an `expected` value that does not match changes nothing.
    /// Returns ATP before and after (what the pipeline's journal records) and the figures.
    pub(crate) fn change(
        &self,
        slot: u32,
        count: Count,
        change: CountChange,
    ) -> Result<(Adjusted, StockFigures), CountError> {
        let _guard = self.lock_slot(slot);
        let f = self.read_figures(slot).ok_or(CountError::Unlisted)?;
        let value = check_change(&f, count, change)?;
        let after = match count {
            Count::OnHand => self.write_figures(slot, value, f.reserved, f.safety_stock),
            Count::Safety => self.write_figures(slot, f.on_hand, f.reserved, value),
        };
        Ok((
            Adjusted {
                before: f.atp,
                after: after.atp,
            },
            after,
        ))
    }

    /// Adds deltas to a slot's on hand and reserved, unchecked (a shared ledger decided
    /// them), each count kept within 0..=[`MAX_UNITS`]. Returns the figures after.
    pub(crate) fn shift(&self, slot: u32, on_hand: i64, reserved: i64) -> StockFigures {
        let _guard = self.lock_slot(slot);
        let Some(f) = self.read_figures(slot) else {
            return StockFigures::default();
        };
        let add =
            |v: u64, d: i64| (i128::from(v) + i128::from(d)).clamp(0, i128::from(MAX_UNITS)) as u64;
        self.write_figures(
            slot,
            add(f.on_hand, on_hand),
            add(f.reserved, reserved),
            f.safety_stock,
        )
    }

    /// Every listed pair with its counts now: the rows a rebuilt stock starts from.
    pub(crate) fn records(&self) -> Vec<InventoryRecord> {
        let mut out = Vec::with_capacity(self.atp.len());
        for (s, name) in self.sku_names.iter().enumerate() {
            for slot in self.slots_of(s as u32) {
                let _guard = self.lock_slot(slot);
                if let Some(f) = self.read_figures(slot) {
                    out.push(InventoryRecord {
                        location: self.slot_location(slot) as usize,
                        sku: name.to_string(),
                        on_hand: f.on_hand,
                        reserved: f.reserved,
                        safety_stock: f.safety_stock,
                    });
                }
            }
        }
        out
    }

    /// This stock with one more (location index, SKU) pair, empty; shipments counted so far
    /// are kept. Nothing may take from `self` meanwhile (the engine holds it exclusively).
    pub(crate) fn with_pair(&self, network: &Network, location: usize, sku: &str) -> Stock {
        let mut records = self.records();
        records.push(InventoryRecord {
            location,
            sku: sku.to_string(),
            on_hand: 0,
            reserved: 0,
            safety_stock: 0,
        });
        let mut stock = Stock::new(network, &records);
        stock.capacity = self.capacity.clone();
        stock
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
            book: self
                .book
                .iter()
                .map(|b| Book {
                    reserved: AtomicU64::new(b.reserved.load(Ordering::Relaxed)),
                    safety: AtomicU64::new(b.safety.load(Ordering::Relaxed)),
                    shortfall: AtomicU64::new(b.shortfall.load(Ordering::Relaxed)),
                })
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
