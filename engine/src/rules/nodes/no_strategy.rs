//! `NoStrategy`: no strategy's `when` holds.

use super::{Flow, Walk};
use crate::model::decision::UnsourcedReason;
use crate::plan::{nothing_placed, Reads};

/// Every line unsourced with reason `no_strategy`, the decision named by no strategy
/// (or the rule error met while testing the `when`s).
pub(super) fn run(w: &mut Walk<'_>) -> Flow {
    let mut r = match w.rule_error(None) {
        Some(r) => r,
        None => {
            let mut r = nothing_placed(w.order, UnsourcedReason::NoStrategy);
            r.decision.rule = String::new();
            r
        }
    };
    r.reads = Some(Reads::default());
    Flow::Decided(Box::new(r))
}
