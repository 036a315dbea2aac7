//! Cutting an order's demand to what can be placed, for every search.
//!
//! In: the demand per SKU, the stock of the holders a search may use (per SKU, in the order
//! the search tries them), the order's kits and packs. Out: the demand that fits, and for
//! each line cut why, when the cut itself knows it (`group_split`, `pack_size`); a line
//! simply short is left to the search, which knows whether its holders were excluded, out
//! of capacity or absent.
//!
//! The least-cost search cuts against every open holder of the network when no complete
//! plan exists; a rule strategy cuts against the holders of each preference tier.

use crate::alloc::{Shape, SkuDemand};
use crate::model::decision::UnsourcedReason;

/// The stock a cut may draw on.
pub(crate) struct Holdings<'a, T: Fn(usize) -> u64, M: Fn(usize) -> u64> {
    /// Units the holders have of each SKU position in all.
    pub total: T,
    /// The most units one holder has of each SKU position.
    pub most_at_one: M,
    /// With kits or packs: each SKU position's holders and their units, in the order they
    /// are tried (kits go to the first holder with all their units, packs fill holders in
    /// turn). Units are taken off as the cut assigns them.
    pub each: Option<&'a mut [Vec<(u32, u64)>]>,
}

/// Cuts each SKU's demand to what the holdings hold, earlier lines first; one entry per
/// SKU position, even when empty, so stock vectors stay aligned with the demand.
///
/// With a shape, kits come first, in order: a kit stays only if one holder has every unit
/// of it, and those units are then its own (two kits never count the same units). The
/// other lines ship whole packs from each holder. A kit line cut while its SKU's units are
/// all there notes `group_split` in `why`; a line with a pack size cut while the holders
/// have the units, not in whole packs, `pack_size`. Where lines may not split, a line is kept whole
/// or not at all. A note already in `why` is kept.
pub(crate) fn cut<T: Fn(usize) -> u64, M: Fn(usize) -> u64>(
    demand: &[SkuDemand],
    holdings: Holdings<'_, T, M>,
    shape: Option<&Shape>,
    lines_whole: bool,
    why: &mut [Option<UnsourcedReason>],
) -> Vec<SkuDemand> {
    let Holdings {
        total,
        most_at_one,
        mut each,
    } = holdings;
    let mut out: Vec<SkuDemand> = demand
        .iter()
        .map(|d| SkuDemand {
            sku: d.sku,
            lines: Vec::new(),
        })
        .collect();
    let mut note = |line: usize, reason: UnsourcedReason| {
        if let Some(w) = why.get_mut(line) {
            w.get_or_insert(reason);
        }
    };
    if let (Some(shape), Some(each)) = (shape, each.as_deref_mut()) {
        for kit in shape.kits_in(demand) {
            let lines: Vec<(usize, usize, u64, f64)> = demand
                .iter()
                .enumerate()
                .flat_map(|(k, d)| d.lines.iter().map(move |&(l, q, w)| (k, l, q, w)))
                .filter(|l| shape.kit_of(l.1) == Some(kit))
                .collect();
            let need = |k: usize| -> u64 { lines.iter().filter(|l| l.0 == k).map(|l| l.2).sum() };
            let first = lines.first().map_or(0, |l| l.0);
            let home = each.get(first).and_then(|h| {
                h.iter().map(|&(at, _)| at).find(|&at| {
                    lines.iter().all(|l| {
                        each.get(l.0).is_some_and(|h| {
                            h.iter().any(|&(x, units)| x == at && units >= need(l.0))
                        })
                    })
                })
            });
            match home {
                Some(at) => {
                    for &(k, line, qty, w) in &lines {
                        if let Some(h) = each.get_mut(k) {
                            for (x, units) in h.iter_mut() {
                                if *x == at {
                                    *units -= (*units).min(qty);
                                }
                            }
                        }
                        if let Some(d) = out.get_mut(k) {
                            d.lines.push((line, qty, w));
                        }
                    }
                }
                None => {
                    for &(k, line, _, _) in &lines {
                        if total(k) >= need(k) {
                            note(line, UnsourcedReason::GroupSplit);
                        }
                    }
                }
            }
        }
    }
    for (k, d) in demand.iter().enumerate() {
        let mut left = match each.as_deref() {
            Some(each) => each.get(k).map_or(0, |h| h.iter().map(|x| x.1).sum()),
            None => total(k),
        };
        let most = match each.as_deref() {
            Some(each) => each
                .get(k)
                .and_then(|h| h.iter().map(|x| x.1).max())
                .unwrap_or(0),
            None => most_at_one(k),
        };
        let mut lines: Vec<(usize, u64, f64)> = d
            .lines
            .iter()
            .copied()
            .filter(|l| shape.is_none_or(|s| s.kit_of(l.0).is_none()))
            .collect();
        lines.sort_by_key(|l| l.0);
        for (line, qty, w) in lines {
            let take = match (shape, each.as_deref_mut()) {
                (Some(shape), Some(each)) if !lines_whole => {
                    let raw = left;
                    let mut need = qty;
                    if let Some(h) = each.get_mut(k) {
                        for (_, units) in h.iter_mut() {
                            let t = shape.whole_packs(line, *units, need);
                            *units -= t;
                            need -= t;
                        }
                    }
                    if need > 0 && shape.pack_of(line) > 1 && total(k) >= qty && raw >= need {
                        note(line, UnsourcedReason::PackSize);
                    }
                    qty - need
                }
                _ if lines_whole => {
                    if qty <= left && qty <= most {
                        qty
                    } else {
                        0
                    }
                }
                _ => qty.min(left),
            };
            left -= take.min(left);
            if take > 0 {
                if let Some(o) = out.get_mut(k) {
                    o.lines.push((line, take, w));
                }
            }
        }
    }
    for d in &mut out {
        d.lines
            .sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    }
    out
}

/// Removes the lines `drop` names from the demand; returns them as (line, units).
pub(crate) fn take_lines(
    demand: &mut Vec<SkuDemand>,
    drop: impl Fn(usize) -> bool,
) -> Vec<(usize, u64)> {
    let mut out = Vec::new();
    for d in demand.iter_mut() {
        d.lines.retain(|l| {
            if drop(l.0) {
                out.push((l.0, l.1));
                false
            } else {
                true
            }
        });
    }
    demand.retain(|d| !d.lines.is_empty());
    out
}

/// Kits with a line of a SKU the network does not know (`unknown`) cannot ship whole: their
/// other lines leave the demand, returned as (line, units).
pub(crate) fn drop_broken_kits(
    demand: &mut Vec<SkuDemand>,
    shape: &Shape,
    unknown: impl Iterator<Item = usize>,
) -> Vec<(usize, u64)> {
    let broken: Vec<u32> = unknown.filter_map(|l| shape.kit_of(l)).collect();
    if broken.is_empty() {
        return Vec::new();
    }
    take_lines(demand, |l| {
        shape.kit_of(l).is_some_and(|k| broken.contains(&k))
    })
}
