//! `Unsourced`: what the strategies left open stays unsourced (`otherwise unsourced`).

use super::{Flow, Walk};

/// The open lines keep the reasons their strategies gave; the walk is over.
pub(super) fn run(_: &mut Walk<'_>) -> Flow {
    Flow::End
}
