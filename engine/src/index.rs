//! The spatial index over each SKU's holders: a ball tree of 3-D unit vectors, so that
//! a search can visit holders in increasing order of a lower bound on their shipment
//! cost and stop long before it has looked at every holder.
//!
//! In: for every SKU, its holders' positions, kinds and handling costs. Out: a [`Cursor`]
//! that yields holder slots of one SKU for one destination, lowest bound first. Each SKU
//! has one tree per location kind, so that a walk over the kinds a strategy can use (DCs
//! only, say) never meets the holders of the others (the many stores). Chord distance
//! is Euclidean in 3-D, so `|q - c| - r` bounds every member of a ball of centre `c` and
//! radius `r`, and an arc is never shorter than its chord: the bound is always safe.

use crate::geo::{chord, km_lower_bound, Unit};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

/// Holders per leaf: small enough to prune, large enough to keep the tree shallow.
const LEAF_SIZE: usize = 12;

/// One ball of the tree: a leaf owns a run of slots, an inner node two children.
#[derive(Debug, Clone)]
struct Node {
    centre: Unit,
    radius: f64,
    min_handling: f64,
    /// Leaf: first slot; inner: left child.
    a: u32,
    /// Leaf: one past the last slot; inner: right child.
    b: u32,
    leaf: bool,
    /// The kind of location of its holders (a tree holds one kind).
    kind: u8,
}

/// A holder as the tree is built: location, unit vector, handling cost, and the units it
/// holds (carried along so the caller can lay out its slots in leaf order).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub location: u32,
    pub unit: Unit,
    pub handling: f64,
    pub atp: u64,
    /// The location's kind, as [`KINDS`] numbers them.
    pub kind: u8,
}

/// Location kinds with a tree of their own: DC, store, dropship vendor.
pub(crate) const KINDS: usize = 3;

/// Every kind: the walk of a search that may use any location.
pub(crate) const ALL_KINDS: [bool; KINDS] = [true; KINDS];

/// A kind without holders of a SKU has no tree.
const NO_ROOT: u32 = u32::MAX;

/// Ball trees for every SKU, flattened into one node array.
#[derive(Debug, Clone, Default)]
pub(crate) struct HolderIndex {
    nodes: Vec<Node>,
    /// Root node per SKU and kind ([`NO_ROOT`] where the kind holds none of it).
    roots: Vec<[u32; KINDS]>,
}

/// The cheapest way to cover a distance, over every service: `min(base + per_km * d)`.
/// It never decreases with distance, which is what makes distance bounds cost bounds.
#[derive(Debug, Clone, Default)]
pub(crate) struct DistanceCost {
    terms: Vec<(f64, f64)>,
}

impl DistanceCost {
    pub fn new(terms: impl IntoIterator<Item = (f64, f64)>) -> DistanceCost {
        DistanceCost {
            terms: terms.into_iter().collect(),
        }
    }

    #[inline]
    pub fn at(&self, km: f64) -> f64 {
        let mut best = f64::INFINITY;
        for &(base, per_km) in &self.terms {
            best = best.min(base + per_km * km);
        }
        best
    }
}

impl HolderIndex {
    /// Builds one tree per SKU and kind. `points` holds every SKU's holders back to back,
    /// as given by `starts` (`starts[s]..starts[s + 1]`); the points of each SKU are
    /// reordered in place, by kind and then into leaf order, and the caller lays out its
    /// slots in that order.
    pub fn build(points: &mut [Point], starts: &[usize]) -> HolderIndex {
        let mut index = HolderIndex::default();
        for w in starts.windows(2) {
            let (start, end) = (w[0], w[1]);
            let mut roots = [NO_ROOT; KINDS];
            if let Some(holders) = points.get_mut(start..end) {
                holders.sort_unstable_by_key(|p| (p.kind, p.location));
            }
            let mut from = start;
            while from < end {
                let kind = points.get(from).map_or(0, |p| p.kind);
                let to = from
                    + points
                        .get(from..end)
                        .map_or(0, |run| run.iter().take_while(|p| p.kind == kind).count());
                let root = index.build_node(points, from, to);
                if let Some(r) = roots.get_mut(kind as usize) {
                    *r = root;
                }
                from = to.max(from + 1);
            }
            index.roots.push(roots);
        }
        index
    }

    fn build_node(&mut self, points: &mut [Point], start: usize, end: usize) -> u32 {
        let members = points.get(start..end).unwrap_or(&[]);
        let n = members.len().max(1) as f64;
        let mut centre = [0.0; 3];
        let mut min_handling = f64::INFINITY;
        for p in members {
            for (c, u) in centre.iter_mut().zip(p.unit) {
                *c += u / n;
            }
            min_handling = min_handling.min(p.handling);
        }
        let radius = members
            .iter()
            .map(|p| chord(&p.unit, &centre))
            .fold(0.0, f64::max);
        let kind = members.first().map_or(0, |p| p.kind);
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            centre,
            radius,
            min_handling,
            a: start as u32,
            b: end as u32,
            leaf: true,
            kind,
        });
        if end - start > LEAF_SIZE {
            // Split at the median of the widest axis; location breaks ties, so the tree
            // (and with it every search) is the same on every run.
            let axis = widest_axis(members);
            let mid = start + (end - start) / 2;
            if let Some(slice) = points.get_mut(start..end) {
                slice.select_nth_unstable_by(mid - start, |x, y| {
                    x.unit[axis]
                        .total_cmp(&y.unit[axis])
                        .then(x.location.cmp(&y.location))
                });
            }
            let left = self.build_node(points, start, mid);
            let right = self.build_node(points, mid, end);
            if let Some(node) = self.nodes.get_mut(id as usize) {
                node.a = left;
                node.b = right;
                node.leaf = false;
            }
        }
        id
    }

    /// Bytes the trees occupy on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.roots.capacity() * std::mem::size_of::<[u32; KINDS]>()
    }

    /// Starts a walk over one SKU's holders towards `dest`.
    pub fn cursor<'a>(
        &'a self,
        sku: u32,
        dest: Unit,
        cost: &'a DistanceCost,
        heap: CursorHeap,
    ) -> Cursor<'a> {
        self.cursor_by(sku, dest, cost, heap, None, ALL_KINDS)
    }

    /// Starts a walk over the holders of one SKU of the kinds `kinds` towards `dest`,
    /// ordered by a rule objective's bound instead of the plain cost bound (see
    /// [`ObjectiveScale`]).
    pub fn cursor_by<'a>(
        &'a self,
        sku: u32,
        dest: Unit,
        cost: &'a DistanceCost,
        heap: CursorHeap,
        scale: Option<ObjectiveScale>,
        kinds: [bool; KINDS],
    ) -> Cursor<'a> {
        let mut cursor = Cursor {
            index: self,
            dest,
            cost,
            heap,
            scale,
            floor: None,
            passed: Vec::new(),
        };
        cursor.heap.clear();
        if let Some(roots) = self.roots.get(sku as usize) {
            for (&root, _) in roots.iter().zip(kinds).filter(|&(&r, k)| k && r != NO_ROOT) {
                cursor.push_node(root, f64::INFINITY);
            }
        }
        cursor
    }
}

fn widest_axis(points: &[Point]) -> usize {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for p in points {
        for k in 0..3 {
            lo[k] = lo[k].min(p.unit[k]);
            hi[k] = hi[k].max(p.unit[k]);
        }
    }
    let ext = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
    if ext[0] >= ext[1] && ext[0] >= ext[2] {
        0
    } else if ext[1] >= ext[2] {
        1
    } else {
        2
    }
}

/// A lower bound on a rule objective that grows with the shipment cost, the distance and
/// the days a carrier takes: `per_cost · cost + per_km · km + per_day · extra days +
/// offset`, every factor at least zero, so a bound on the cost and on the distance of every
/// holder in a ball is a bound on its objective.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ObjectiveScale {
    pub per_cost: f64,
    pub per_km: f64,
    pub offset: f64,
    /// Holders farther away than this are of no use to the walk (an exclusion drops them).
    pub max_km: f64,
    /// What a day more costs (0: the objective does not grow with the days).
    pub per_day: f64,
    /// The days a carrier takes at least, beyond those `offset` counts: the fewest
    /// processing days less the fewest days of `offset`, plus the transit days below.
    pub days_beyond: f64,
    /// The fastest service's kilometres per day: transit takes at least
    /// `max(1, ⌈km / fastest⌉)` days.
    pub fastest_km_per_day: f64,
    /// What every holder of a kind scores beyond the bound at least, by its kind's own
    /// ranges (a store's processing days, say, where a term grows with the days).
    pub kind_offset: [f64; KINDS],
}

impl ObjectiveScale {
    #[inline]
    fn apply(&self, cost: f64, km: f64) -> f64 {
        let mut bound = self.per_cost * cost + self.per_km * km + self.offset;
        if self.per_day > 0.0 && self.fastest_km_per_day > 0.0 {
            let transit = (km / self.fastest_km_per_day).ceil().max(1.0);
            bound += self.per_day * (self.days_beyond + transit).max(0.0);
        }
        bound
    }
}

/// The heap of a walk: (bound as [`bound_key`], node or slot), least first. Integer keys
/// compare in one instruction where floats need their NaN cases.
pub(crate) type CursorHeap = BinaryHeap<Reverse<(u64, u32)>>;

/// A bound as an integer of the same order: finite and infinite bounds, negative ones
/// included, compare as their keys do (`-0.0` counts as `0.0`). Bounds are never NaN (the
/// walk pushes only bounds below its cutoff).
#[inline]
fn bound_key(bound: f64) -> u64 {
    let bits = (bound + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// The bound a key was made of.
#[inline]
fn key_bound(key: u64) -> f64 {
    if key >> 63 == 1 {
        f64::from_bits(key & !(1 << 63))
    } else {
        f64::from_bits(!key)
    }
}

/// Marks heap entries that are slots rather than nodes.
const SLOT_BIT: u32 = 1 << 31;

/// A best-first walk over one SKU's holders: each call to [`Cursor::next`] yields the slot
/// with the lowest cost bound not yet yielded, with that bound.
pub(crate) struct Cursor<'a> {
    index: &'a HolderIndex,
    dest: Unit,
    cost: &'a DistanceCost,
    heap: CursorHeap,
    scale: Option<ObjectiveScale>,
    /// The fewest units a holder of each kind needs to be yielded, with the units of every
    /// slot (see [`Cursor::with_floor`]).
    floor: Option<([u64; KINDS], &'a [AtomicU64])>,
    /// Slots passed by for holding fewer units than the floor of their kind, with it.
    passed: Vec<(u32, u64)>,
}

impl<'a> Cursor<'a> {
    /// Passes by every holder of a kind that holds fewer units than `min_units` of that
    /// kind (`atp`: the units of every slot): a rule's exclusions would drop each line it
    /// could ship. Their slots are kept for [`Cursor::passed`], since a plan depends on their
    /// staying short.
    pub fn with_floor(mut self, min_units: [u64; KINDS], atp: &'a [AtomicU64]) -> Cursor<'a> {
        if min_units.iter().any(|&m| m > 1) {
            self.floor = Some((min_units, atp));
        }
        self
    }

    /// The slots passed by so far for holding fewer units than their kind's floor, with that
    /// floor.
    pub fn passed(&self) -> &[(u32, u64)] {
        &self.passed
    }
}

impl Cursor<'_> {
    /// The bound of a holder (or ball) with least handling `handling` at least `km` away;
    /// infinite beyond the walk's distance limit.
    #[inline]
    fn bound(&self, kind: u8, handling: f64, km: f64) -> f64 {
        let cost = handling + self.cost.at(km);
        match &self.scale {
            None => cost,
            Some(s) if km > s.max_km => f64::INFINITY,
            Some(s) => s.apply(cost, km) + s.kind_offset.get(kind as usize).copied().unwrap_or(0.0),
        }
    }

    fn push_node(&mut self, id: u32, cutoff: f64) {
        if let Some(node) = self.index.nodes.get(id as usize) {
            if node.a == node.b && node.leaf {
                return; // a SKU without holders
            }
            let gap = (chord(&self.dest, &node.centre) - node.radius).max(0.0);
            let bound = self.bound(node.kind, node.min_handling, km_lower_bound(gap));
            if bound < cutoff {
                self.heap.push(Reverse((bound_key(bound), id)));
            }
        }
    }

    /// The bound of the next slot or node, `None` when the walk is over.
    pub fn peek_bound(&self) -> Option<f64> {
        self.heap.peek().map(|Reverse((b, _))| key_bound(*b))
    }

    /// The next slot and its cost bound (handling plus the cheapest distance cost), if that
    /// bound is below `cutoff`.
    ///
    /// The caller's cutoff never rises from one call to the next (it tracks the best plan
    /// found so far), so nodes and slots at or above it are dropped for good instead of
    /// being kept in the heap.
    pub fn next(
        &mut self,
        cutoff: f64,
        units: &[Unit],
        slot_location: &[u32],
        handling: &[f64],
    ) -> Option<(u32, f64)> {
        while let Some(Reverse((key, item))) = self.heap.pop() {
            let bound = key_bound(key);
            if bound >= cutoff {
                self.heap.clear();
                return None;
            }
            if item & SLOT_BIT != 0 {
                return Some((item & !SLOT_BIT, bound));
            }
            let Some(node) = self.index.nodes.get(item as usize) else {
                continue;
            };
            if node.leaf {
                let floor = self
                    .floor
                    .and_then(|(min, atp)| Some((*min.get(node.kind as usize)?, atp)))
                    .filter(|&(min, _)| min > 1);
                for slot in node.a..node.b {
                    let Some(&loc) = slot_location.get(slot as usize) else {
                        continue;
                    };
                    let (Some(unit), Some(&h)) =
                        (units.get(loc as usize), handling.get(loc as usize))
                    else {
                        continue;
                    };
                    // The floor first: a count is one load, a bound a square root. A slot
                    // below it is noted whatever its bound (noting one that could not have
                    // mattered only makes a plan made ahead a little more careful).
                    if let Some((min, atp)) = floor {
                        let units = atp
                            .get(slot as usize)
                            .map_or(0, |a| a.load(AtomicOrdering::Relaxed));
                        if units < min {
                            self.passed.push((slot, min));
                            continue;
                        }
                    }
                    let b = self.bound(node.kind, h, km_lower_bound(chord(&self.dest, unit)));
                    if b >= cutoff {
                        continue;
                    }
                    self.heap.push(Reverse((bound_key(b), slot | SLOT_BIT)));
                }
            } else {
                let (l, r) = (node.a, node.b);
                self.push_node(l, cutoff);
                self.push_node(r, cutoff);
            }
        }
        None
    }
}

/// The number of a location kind in the index's trees.
pub(crate) fn kind_number(kind: crate::model::network::LocationKind) -> u8 {
    use crate::model::network::LocationKind;
    match kind {
        LocationKind::Dc => 0,
        LocationKind::Store => 1,
        LocationKind::Dropship => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::{bound_key, key_bound, ObjectiveScale};
    use ordered_float::OrderedFloat;

    /// The walk's integer keys order bounds exactly as `OrderedFloat` does, and give them
    /// back.
    #[test]
    fn bound_keys_order_as_ordered_floats() {
        let mut values = vec![
            f64::NEG_INFINITY,
            -1e300,
            -3.5,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            1e-12,
            0.35,
            7.81,
            7.810_000_000_000_001,
            1e300,
            f64::INFINITY,
        ];
        values.extend((0..200).map(|i| (f64::from(i) - 100.0) * 0.137));
        for &a in &values {
            assert_eq!(key_bound(bound_key(a)), a + 0.0);
            for &b in &values {
                assert_eq!(
                    bound_key(a).cmp(&bound_key(b)),
                    OrderedFloat(a).cmp(&OrderedFloat(b)),
                    "{a} against {b}"
                );
            }
        }
    }

    /// `cost + 1.5 EUR * days`, carriers at 450 km a day, every location one processing day
    /// at least and the offset counting one day: the walk adds the carrier's transit days.
    #[test]
    fn the_bound_grows_with_the_transit_days_of_the_fastest_carrier() {
        let scale = ObjectiveScale {
            per_cost: 1.0,
            per_km: 0.0,
            offset: 1.5,
            max_km: f64::INFINITY,
            per_day: 1.5,
            days_beyond: 0.0,
            fastest_km_per_day: 450.0,
            kind_offset: [0.0; super::KINDS],
        };
        assert_eq!(scale.apply(4.0, 10.0), 4.0 + 1.5 + 1.5);
        assert_eq!(scale.apply(4.0, 450.0), 4.0 + 1.5 + 1.5);
        assert_eq!(scale.apply(4.0, 450.5), 4.0 + 1.5 + 3.0);
        // Never above what a shipment scores: one processing day, then transit.
        for km in [0.0, 120.0, 449.0, 451.0, 1300.0] {
            let days = 1.0 + (km / 450.0_f64).ceil().max(1.0);
            assert!(scale.apply(4.0, km) <= 4.0 + 1.5 * days + 1e-12);
        }
        let flat = ObjectiveScale {
            per_day: 0.0,
            ..scale
        };
        assert_eq!(flat.apply(4.0, 1300.0), 5.5);
    }
}
