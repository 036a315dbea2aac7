//! Prometheus metrics: requests and decisions by endpoint, status and rule; latency;
//! ledger commit latency and batch size; reservations held. One registry per service, so
//! tests can run several in one process.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

/// The service's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by endpoint (route template), method and HTTP status.
    pub requests: IntCounterVec,
    /// Decisions by endpoint, decision status and rule.
    pub decisions: IntCounterVec,
    /// Request latency by endpoint.
    pub latency: HistogramVec,
    /// Seconds one ledger commit took.
    pub commit_seconds: Histogram,
    /// Changes committed in one ledger transaction.
    pub batch_size: Histogram,
    /// Reservations held now.
    pub reservations_held: IntGauge,
    /// Ledger commits refused because another instance took the units first (shared
    /// ledger); each is decided again.
    pub conflicts: IntCounter,
    /// Entries of other instances applied to memory (shared ledger).
    pub followed: IntCounter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        // The names and labels are constants: building them cannot fail, and a metric that
        // could not be registered only goes missing from /metrics.
        let requests = IntCounterVec::new(
            Opts::new(
                "sourcing_requests_total",
                "HTTP requests by endpoint, method and status",
            ),
            &["endpoint", "method", "status"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let decisions = IntCounterVec::new(
            Opts::new(
                "sourcing_decisions_total",
                "Decisions by endpoint, status and rule",
            ),
            &["endpoint", "status", "rule"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let latency = HistogramVec::new(
            HistogramOpts::new("sourcing_request_seconds", "Request latency by endpoint").buckets(
                vec![
                    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                    0.5, 1.0, 2.5,
                ],
            ),
            &["endpoint"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let commit_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "sourcing_ledger_commit_seconds",
                "Seconds per ledger commit",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
            ]),
        )
        .unwrap_or_else(|_| unreachable_metric());
        let batch_size = Histogram::with_opts(
            HistogramOpts::new("sourcing_ledger_batch_size", "Changes per ledger commit").buckets(
                vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0],
            ),
        )
        .unwrap_or_else(|_| unreachable_metric());
        let reservations_held = IntGauge::new("sourcing_reservations_held", "Reservations held")
            .unwrap_or_else(|_| unreachable_metric());
        let conflicts = IntCounter::new(
            "sourcing_ledger_conflicts_total",
            "Ledger commits refused because another instance took the units first",
        )
        .unwrap_or_else(|_| unreachable_metric());
        let followed = IntCounter::new(
            "sourcing_ledger_followed_entries_total",
            "Entries committed by other instances and applied here",
        )
        .unwrap_or_else(|_| unreachable_metric());
        let _ = registry.register(Box::new(conflicts.clone()));
        let _ = registry.register(Box::new(followed.clone()));
        let _ = registry.register(Box::new(requests.clone()));
        let _ = registry.register(Box::new(decisions.clone()));
        let _ = registry.register(Box::new(latency.clone()));
        let _ = registry.register(Box::new(commit_seconds.clone()));
        let _ = registry.register(Box::new(batch_size.clone()));
        let _ = registry.register(Box::new(reservations_held.clone()));
        Metrics {
            registry,
            requests,
            decisions,
            latency,
            commit_seconds,
            batch_size,
            reservations_held,
            conflicts,
            followed,
        }
    }

    /// Counts one decision.
    pub fn decision(&self, endpoint: &str, status: &str, rule: &str) {
        self.decisions
            .with_label_values(&[endpoint, status, rule])
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[allow(clippy::panic)]
fn unreachable_metric<T>() -> T {
    panic!("a metric with constant, valid options could not be built")
}
