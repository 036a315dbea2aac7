//! `Backorder`: what the strategies left open waits for stock (`otherwise backorder`).

use super::{Flow, Walk};
use crate::model::decision::UnsourcedReason;

/// Every open line gets the reason `backorder`; the walk is over.
pub(super) fn run(w: &mut Walk<'_>) -> Flow {
    match &mut w.builtin {
        Some((routed, _)) => {
            for u in &mut routed.decision.unsourced {
                u.reason = UnsourcedReason::Backorder;
            }
        }
        None => w.progress.close(&UnsourcedReason::Backorder),
    }
    Flow::End
}
