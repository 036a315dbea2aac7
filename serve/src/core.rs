//! The service's core: the engine decides in memory under one sequencing lock, the
//! ledger writer commits what it decided in batches, and a caller is answered once its
//! batch is on disk.
//!
//! The lock covers the engine change, the numbering of its entries and the hand-off to the
//! writer, so the ledger's order is the order memory changed in. A batch that fails to
//! commit is undone in memory together with everything handed off after it (newest
//! first), and every one of those requests fails.
//!
//! Over a shared ledger another instance may take the units first: the commit is refused
//! as a conflict, everything handed off is undone the same way, memory catches up with
//! the ledger (the entries others committed, the conflicting pairs read again) and each
//! change is decided again. A follower thread keeps memory close to the ledger between
//! commits, so conflicts stay rare.

use crate::engine_port::{
    state_word, EnginePort, Mode, Movement, PairDelta, Reservation, ReservationState, RouteOptions,
    Transition, Undo,
};
use crate::ledger::{
    now_rfc3339, renumber_answer, renumbered, Batch, CommitError, Conflict, Entry,
    IdempotencyRecord, Ledger, LedgerError,
};
use crate::metrics::Metrics;
use serde_json::json;
use sha2::{Digest, Sha256};
use sourcing_engine::{MovementError, ReservationError, ValidOrder};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// Most jobs committed in one transaction.
const MAX_BATCH: usize = 4096;

/// Most times a change is decided again after conflicts before it is refused (503).
const MAX_ATTEMPTS: usize = 16;

/// Most entries of other instances read in one go when following.
const FOLLOW_PAGE: usize = 5000;

/// How long the follower waits for a notification before it polls anyway.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

/// Seconds past its expiry after which an instance expires a reservation another
/// instance made (that instance may have died).
const SHARED_EXPIRY_GRACE_S: i64 = 5;

/// Why the writer did not make a change durable.
#[derive(Debug, Clone)]
enum NotDone {
    /// The ledger failed: the change fails.
    Failed(String),
    /// Another instance took something first: decide again.
    Conflict,
}

/// An answer: HTTP status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// JSON text.
    pub body: String,
}

/// A refusal: HTTP status and `{"error": …}` (with more fields where service.md says).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: serde_json::Value,
}

impl ApiError {
    /// `status` with `{"error": message}`.
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: json!({ "error": message.into() }),
        }
    }
}

type Shared = Option<Result<Answer, ApiError>>;

struct Idem {
    fingerprint: String,
    answer: watch::Receiver<Shared>,
}

struct Job {
    first_seq: u64,
    batch: Batch,
    undo: Vec<Undo>,
    key: Option<String>,
    answer: Option<(Answer, watch::Sender<Shared>)>,
    /// Answered with the job's undo once durable: the caller drops it, not the writer.
    reply: Option<oneshot::Sender<Result<Vec<Undo>, NotDone>>>,
    held_change: i64,
}

enum Pending {
    /// An earlier request with the same key: its answer, once it has one.
    Earlier(watch::Receiver<Shared>),
    /// Handed to the writer: its reply and the answer.
    Queued(
        oneshot::Receiver<Result<Vec<Undo>, NotDone>>,
        watch::Receiver<Shared>,
    ),
}

struct Seq {
    /// True once memory could not be brought back to the ledger: no more changes.
    broken: bool,
    next: u64,
    tx: Option<mpsc::Sender<Job>>,
    idem: HashMap<String, Idem>,
}

/// What a change hands to the ledger and answers.
pub struct Prepared {
    /// Entries (numbered from the `next` given to the preparation), reservations.
    pub batch: Batch,
    /// How to revert it in memory.
    pub undo: Vec<Undo>,
    /// The answer once durable.
    pub answer: Answer,
    /// Change of the number of held reservations.
    pub held_change: i64,
}

/// The engine, the ledger and the writer between them.
pub struct Core {
    /// The engine.
    pub port: EnginePort,
    /// The ledger (reads; the writer thread commits).
    pub ledger: Arc<dyn Ledger>,
    /// Counters and histograms.
    pub metrics: Metrics,
    seq: Mutex<Seq>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The last seq of the ledger memory reflects (own commits and followed ones); taken
    /// before `seq` by whoever follows.
    followed: Mutex<u64>,
    follower: Mutex<Option<std::thread::JoinHandle<()>>>,
    stopping: AtomicBool,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core").finish_non_exhaustive()
    }
}

/// The fingerprint of a request: its method, path and body (JSON read and written again,
/// so spacing and key order do not matter).
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b" ");
    h.update(path.as_bytes());
    h.update(b"\n");
    // Written straight into the hash: no copy of the canonical text is kept.
    let hashed = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_writer(HashWriter(&mut h), &v).ok());
    if hashed.is_none() {
        h.update(String::from_utf8_lossy(body).as_bytes());
    }
    crate::engine_port::hex(&h.finalize())
}

/// Bytes written go into a hash.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The ledger entries of some figure changes.
#[allow(clippy::too_many_arguments)]
pub fn entries(
    deltas: &[PairDelta],
    next: u64,
    kind: &str,
    reservation: Option<&str>,
    order: Option<&str>,
    key: Option<&str>,
    ruleset: Option<&str>,
    reference: Option<&str>,
) -> Vec<Entry> {
    let at = now_rfc3339();
    deltas
        .iter()
        .zip(next..)
        .map(|(d, seq)| Entry {
            seq,
            at: at.clone(),
            kind: kind.to_string(),
            location: d.location.clone(),
            sku: d.sku.clone(),
            on_hand_delta: d.on_hand,
            reserved_delta: d.reserved,
            reservation: reservation.map(str::to_string),
            order: order.map(str::to_string),
            idempotency_key: key.map(str::to_string),
            ruleset: ruleset.map(str::to_string),
            reference: reference.map(str::to_string),
            placed_at: None,
        })
        .collect()
}

/// Entries marked with their order's `placed_at`: the day their shipments count against
/// the locations' capacity, counted again from the ledger on the next start.
fn dated(mut entries: Vec<Entry>, placed_at: Option<&str>) -> Vec<Entry> {
    for e in &mut entries {
        e.placed_at = placed_at.map(str::to_string);
    }
    entries
}

/// Remembers an answer given before (by this instance or, over a shared ledger, another).
fn remember(seq: &mut Seq, record: IdempotencyRecord) {
    let (_, answer) = watch::channel(Some(Ok(Answer {
        status: record.status,
        body: record.body,
    })));
    seq.idem.insert(
        record.key,
        Idem {
            fingerprint: record.fingerprint,
            answer,
        },
    );
}

/// The reservation as the service answers it.
pub fn reservation_json(r: &Reservation) -> String {
    reservation_json_with(
        r,
        crate::engine_port::decision_json(&r.decision, None).get(),
    )
}

/// [`reservation_json`] with its decision already written as JSON.
fn reservation_json_with(r: &Reservation, decision: &str) -> String {
    format!(
        "{{\"id\":{},\"order\":{},\"state\":\"{}\",\"expires_at\":{},\"decision\":{}}}",
        serde_json::Value::from(r.id.as_str()),
        serde_json::Value::from(r.order.as_str()),
        state_word(r.state),
        r.expires_at,
        decision
    )
}

impl Core {
    /// A core over an engine and a ledger whose last entry is `next - 1`, remembering the
    /// stored answers; starts the writer thread.
    pub fn start(
        port: EnginePort,
        ledger: Arc<dyn Ledger>,
        next: u64,
        answers: Vec<IdempotencyRecord>,
        metrics: Metrics,
    ) -> Arc<Core> {
        let (tx, rx) = mpsc::channel::<Job>();
        let idem = answers
            .into_iter()
            .map(|r| {
                let (_, answer) = watch::channel(Some(Ok(Answer {
                    status: r.status,
                    body: r.body,
                })));
                (
                    r.key,
                    Idem {
                        fingerprint: r.fingerprint,
                        answer,
                    },
                )
            })
            .collect();
        let core = Arc::new(Core {
            port,
            ledger,
            metrics,
            seq: Mutex::new(Seq {
                broken: false,
                next,
                tx: Some(tx),
                idem,
            }),
            writer: Mutex::new(None),
            followed: Mutex::new(next.saturating_sub(1)),
            follower: Mutex::new(None),
            stopping: AtomicBool::new(false),
        });
        let held = core
            .port
            .reservations()
            .iter()
            .filter(|r| r.state == ReservationState::Held)
            .count();
        core.metrics.reservations_held.set(held as i64);
        let writer_core = Arc::clone(&core);
        let handle = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || writer_core.write_loop(rx));
        match handle {
            Ok(h) => *core.writer.lock().unwrap_or_else(PoisonError::into_inner) = Some(h),
            Err(e) => {
                tracing::error!("cannot start the ledger writer: {e}");
                core.lock().tx = None;
            }
        }
        if core.ledger.shared() {
            let follower_core = Arc::clone(&core);
            match std::thread::Builder::new()
                .name("ledger-follower".into())
                .spawn(move || follower_core.follow_loop())
            {
                Ok(h) => *core.follower.lock().unwrap_or_else(PoisonError::into_inner) = Some(h),
                Err(e) => tracing::error!("cannot start the ledger follower: {e}"),
            }
        }
        core
    }

    fn lock(&self) -> MutexGuard<'_, Seq> {
        self.seq.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops taking changes and waits until everything handed to the writer is durable.
    pub fn shutdown(&self) {
        self.lock().tx = None;
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(h) = handle {
            let _ = h.join();
        }
        self.stopping.store(true, Ordering::Release);
        let follower = self
            .follower
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(h) = follower {
            let _ = h.join();
        }
    }

    /// False once a failed commit left memory ahead of the ledger (restart to rebuild).
    pub fn healthy(&self) -> bool {
        !self.lock().broken
    }

    /// The next sequence number.
    pub fn next_seq(&self) -> u64 {
        self.lock().next
    }

    fn write_loop(&self, rx: mpsc::Receiver<Job>) {
        while let Ok(first) = rx.recv() {
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            let mut batch = Batch::default();
            // Moved, not copied: a job needs only its undo and answer from here on.
            for job in &mut jobs {
                batch.append(std::mem::take(&mut job.batch));
            }
            let started = Instant::now();
            let result = self.ledger.commit(&batch);
            self.metrics
                .commit_seconds
                .observe(started.elapsed().as_secs_f64());
            self.metrics.batch_size.observe(jobs.len() as f64);
            match result {
                Ok(committed) => {
                    // A shared ledger numbers entries at commit time: answers naming a
                    // seq (movements) say the number it gave.
                    let moved = batch
                        .entries
                        .iter()
                        .zip(committed.first_seq..)
                        .any(|(e, seq)| e.seq != seq);
                    let numbers = if moved {
                        let last = committed.first_seq + batch.entries.len() as u64 - 1;
                        let mut seq = self.lock();
                        seq.next = seq.next.max(last + 1);
                        renumbered(&batch, committed.first_seq)
                    } else {
                        std::collections::BTreeMap::new()
                    };
                    let held: i64 = jobs.iter().map(|j| j.held_change).sum();
                    self.metrics.reservations_held.add(held);
                    for mut job in jobs {
                        if let Some((mut answer, shared)) = job.answer {
                            if moved {
                                answer.body = renumber_answer(&answer.body, &numbers);
                            }
                            let _ = shared.send(Some(Ok(answer)));
                        }
                        // What the change took in memory is dropped by its caller, off
                        // the one thread every change passes.
                        if let Some(reply) = job.reply {
                            let _ = reply.send(Ok(std::mem::take(&mut job.undo)));
                        }
                    }
                }
                Err(CommitError::Failed(e)) => self.fail(jobs, &rx, &e),
                Err(CommitError::Conflict(c)) => self.conflicted(jobs, &rx, &c),
            }
        }
    }

    /// Takes every job still handed off, undoes them all newest first and numbers the
    /// ledger from the first again. Memory ahead of the ledger in a way the engine cannot
    /// revert stops the service taking changes; a restart rebuilds the stock from the ledger.
    fn rewind(&self, seq: &mut Seq, jobs: &mut Vec<Job>, rx: &mpsc::Receiver<Job>) {
        while let Ok(job) = rx.try_recv() {
            jobs.push(job);
        }
        let mut exact = true;
        for job in jobs.iter_mut().rev() {
            for undo in std::mem::take(&mut job.undo).into_iter().rev() {
                exact &= self.port.undo(undo);
            }
        }
        if let Some(first) = jobs.first() {
            seq.next = first.first_seq;
        }
        if !exact {
            tracing::error!("a settled reservation could not be reverted: the service takes no more changes until it is started again");
            seq.tx = None;
            seq.broken = true;
        }
    }

    /// Undoes a failed batch and every job handed off after it, newest first.
    fn fail(&self, mut jobs: Vec<Job>, rx: &mpsc::Receiver<Job>, error: &LedgerError) {
        tracing::error!(
            "ledger commit failed, {} changes undone: {error}",
            jobs.len()
        );
        let mut seq = self.lock();
        self.rewind(&mut seq, &mut jobs, rx);
        let refusal = ApiError::new(
            503,
            format!("the change could not be made durable: {error}"),
        );
        for job in jobs {
            if let Some(key) = &job.key {
                seq.idem.remove(key);
            }
            if let Some((_, shared)) = job.answer {
                let _ = shared.send(Some(Err(refusal.clone())));
            }
            if let Some(reply) = job.reply {
                let _ = reply.send(Err(NotDone::Failed(error.0.clone())));
            }
        }
    }

    /// Undoes a batch another instance got ahead of, and everything handed off after it;
    /// catches up with the ledger (under the lock: nothing of this instance is pending
    /// then, so the conflicting pairs can be set to the stock of record) and sends every
    /// change back to be decided again.
    fn conflicted(&self, mut jobs: Vec<Job>, rx: &mpsc::Receiver<Job>, conflict: &Conflict) {
        self.metrics.conflicts.inc();
        tracing::debug!(
            pairs = conflict.slots.len(),
            reservations = conflict.reservations.len(),
            keys = conflict.keys.len(),
            "ledger commit conflicted; deciding again"
        );
        let mut followed = self.followed.lock().unwrap_or_else(PoisonError::into_inner);
        let mut seq = self.lock();
        self.rewind(&mut seq, &mut jobs, rx);
        for job in &jobs {
            if let Some(key) = &job.key {
                seq.idem.remove(key);
            }
        }
        if let Err(e) = self.catch_up_locked(&mut followed, &mut seq, &conflict.slots) {
            tracing::warn!("cannot follow the ledger after a conflict: {e}");
        }
        // Keys another instance answered first: their answer is the answer.
        for key in &conflict.keys {
            match self.ledger.idempotency(key) {
                Ok(Some(record)) => remember(&mut seq, record),
                Ok(None) => {}
                Err(e) => tracing::warn!("cannot read idempotency key: {e}"),
            }
        }
        drop(seq);
        drop(followed);
        for job in jobs {
            if let Some(reply) = job.reply {
                let _ = reply.send(Err(NotDone::Conflict));
            }
        }
    }

    /// Applies the entries other instances committed since memory last caught up, in
    /// pages; then sets `slots` to the stock of record. Both locks are held.
    fn catch_up_locked(
        &self,
        followed: &mut u64,
        seq: &mut Seq,
        slots: &[(String, String)],
    ) -> Result<usize, LedgerError> {
        let mut applied = 0;
        loop {
            let refreshed = self.ledger.refresh(*followed, slots, FOLLOW_PAGE)?;
            let head = refreshed.head;
            let got = crate::follow::read(self.ledger.as_ref(), refreshed.entries)?;
            applied += crate::follow::apply(&self.port, got);
            for r in &refreshed.slots {
                self.port
                    .set_figures(&r.location, &r.sku, r.on_hand, r.reserved);
            }
            *followed = (*followed).max(head);
            seq.next = seq.next.max(*followed + 1);
            if refreshed.complete {
                return Ok(applied);
            }
        }
    }

    /// Brings memory up to the ledger: the entries other instances committed, applied in
    /// order. Reads the ledger outside the sequencing lock; returns how many were applied.
    pub fn catch_up(&self) -> Result<usize, LedgerError> {
        if !self.ledger.shared() {
            return Ok(0);
        }
        let mut followed = self.followed.lock().unwrap_or_else(PoisonError::into_inner);
        let mut applied = 0;
        loop {
            let refreshed = self.ledger.refresh(*followed, &[], FOLLOW_PAGE)?;
            let head = refreshed.head;
            let got = crate::follow::read(self.ledger.as_ref(), refreshed.entries)?;
            let mut seq = self.lock();
            applied += crate::follow::apply(&self.port, got);
            *followed = (*followed).max(head);
            seq.next = seq.next.max(*followed + 1);
            drop(seq);
            if refreshed.complete {
                break;
            }
        }
        if applied > 0 {
            self.metrics.followed.inc_by(applied as u64);
        }
        Ok(applied)
    }

    fn follow_loop(&self) {
        while !self.stopping.load(Ordering::Acquire) {
            self.ledger.wait_for_news(FOLLOW_POLL);
            if let Err(e) = self.catch_up() {
                tracing::warn!("cannot follow the ledger: {e}");
                std::thread::sleep(FOLLOW_POLL);
            }
        }
    }

    /// True when the reservation is known in memory; over a shared ledger, memory first
    /// catches up, and a reservation held in the ledger (made elsewhere) is learnt.
    pub fn knows_reservation(&self, id: &str) -> bool {
        if self.port.reservation(id).is_some() {
            return true;
        }
        if !self.ledger.shared() {
            return false;
        }
        if let Err(e) = self.catch_up() {
            tracing::warn!("cannot follow the ledger: {e}");
        }
        if self.port.reservation(id).is_some() {
            return true;
        }
        match self.ledger.reservation(id) {
            Ok(Some(r)) if r.state == ReservationState::Held => {
                // Its units count as reserved already (its entries were followed).
                self.port.restore(r).is_ok() || self.port.reservation(id).is_some()
            }
            _ => false,
        }
    }

    /// Makes one change: prepares it in memory under the sequencing lock, hands it to the
    /// writer and answers once it is durable. With an idempotency key (key, fingerprint),
    /// a key seen before answers its first answer (waiting for it if it is not durable
    /// yet), or 409 for a different request.
    /// Over a shared ledger, a change that another instance got ahead of is decided again
    /// against the stock of record, up to 16 times.
    pub async fn change(
        &self,
        key: Option<(String, String)>,
        prepare: impl Fn(&EnginePort, u64, Option<&str>) -> Result<Prepared, ApiError>,
    ) -> Result<Answer, ApiError> {
        let failed_first = || ApiError::new(503, "the first request with this key failed");
        for _ in 0..MAX_ATTEMPTS {
            match self.enqueue(key.clone(), &prepare)? {
                Pending::Earlier(mut waiting) => {
                    let answer = match waiting.wait_for(Option::is_some).await {
                        Ok(answer) => answer.clone(),
                        Err(_) => None,
                    };
                    return answer.unwrap_or_else(|| Err(failed_first()));
                }
                Pending::Queued(reply, shared) => match reply.await {
                    Ok(Ok(_undo)) => {
                        let answer = shared.borrow().clone();
                        return answer
                            .unwrap_or_else(|| Err(ApiError::new(503, "no answer was recorded")));
                    }
                    Ok(Err(NotDone::Conflict)) => continue,
                    Ok(Err(NotDone::Failed(e))) => {
                        return Err(ApiError::new(
                            503,
                            format!("the change could not be made durable: {e}"),
                        ))
                    }
                    Err(_) => return Err(ApiError::new(503, "the ledger writer has stopped")),
                },
            }
        }
        Err(ApiError::new(
            503,
            format!(
                "the stock kept changing under this change ({MAX_ATTEMPTS} attempts); try again"
            ),
        ))
    }

    /// The synchronous half of [`Core::change`]: under the lock, either the answer of an
    /// earlier request with the same key, or the change made and handed to the writer.
    fn enqueue(
        &self,
        key: Option<(String, String)>,
        prepare: &impl Fn(&EnginePort, u64, Option<&str>) -> Result<Prepared, ApiError>,
    ) -> Result<Pending, ApiError> {
        let mut seq = self.lock();
        if let Some((k, fp)) = &key {
            if let Some(idem) = seq.idem.get(k) {
                if idem.fingerprint != *fp {
                    return Err(ApiError::new(
                        409,
                        format!("idempotency key `{k}` was first used with a different request"),
                    ));
                }
                return Ok(Pending::Earlier(idem.answer.clone()));
            }
        }
        let Some(tx) = seq.tx.clone() else {
            return Err(ApiError::new(
                503,
                if seq.broken {
                    "a change could not be made durable; the service takes changes again once restarted"
                } else {
                    "the service is shutting down"
                },
            ));
        };
        let first_seq = seq.next;
        let prepared = prepare(&self.port, first_seq, key.as_ref().map(|k| k.0.as_str()))?;
        let mut batch = prepared.batch;
        seq.next += batch.entries.len() as u64;
        let (shared_tx, shared_rx) = watch::channel(None);
        if let Some((k, fp)) = &key {
            batch.idempotency.push(IdempotencyRecord {
                key: k.clone(),
                fingerprint: fp.clone(),
                status: prepared.answer.status,
                body: prepared.answer.body.clone(),
            });
            seq.idem.insert(
                k.clone(),
                Idem {
                    fingerprint: fp.clone(),
                    answer: shared_rx.clone(),
                },
            );
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        let job = Job {
            first_seq,
            batch,
            undo: prepared.undo,
            key: key.as_ref().map(|k| k.0.clone()),
            answer: Some((prepared.answer, shared_tx)),
            reply: Some(reply_tx),
            held_change: prepared.held_change,
        };
        if let Err(mpsc::SendError(job)) = tx.send(job) {
            let mut exact = true;
            for undo in job.undo.into_iter().rev() {
                exact &= self.port.undo(undo);
            }
            seq.next = first_seq;
            seq.broken |= !exact;
            if let Some(k) = &job.key {
                seq.idem.remove(k);
            }
            return Err(ApiError::new(503, "the ledger writer has stopped"));
        }
        Ok(Pending::Queued(reply_rx, shared_rx))
    }

    /// Routes an order and takes its units for good.
    pub async fn route(
        &self,
        order: ValidOrder,
        key: (String, String),
    ) -> Result<Answer, ApiError> {
        self.change(Some(key), |port, next, key| {
            let out = port.route(
                &order,
                &RouteOptions {
                    mode: Mode::Consume,
                    explain: false,
                },
            );
            self.metrics.decision("route", out.status, &out.rule);
            let undo: Vec<Undo> = out
                .engine
                .map(|o| Undo::Outcome(Box::new(o)))
                .into_iter()
                .collect();
            let batch = Batch {
                entries: dated(
                    entries(
                        &out.deltas,
                        next,
                        "route",
                        None,
                        Some(&order.id),
                        key,
                        Some(&out.ruleset),
                        None,
                    ),
                    order.placed_at.as_deref(),
                ),
                ..Batch::default()
            };
            Ok(Prepared {
                batch,
                undo,
                answer: Answer {
                    status: 200,
                    body: out.decision.get().to_string(),
                },
                held_change: 0,
            })
        })
        .await
    }

    /// Routes an order and holds its units until `expires_at`.
    pub async fn reserve(
        &self,
        order: ValidOrder,
        ttl_s: u64,
        key: (String, String),
    ) -> Result<Answer, ApiError> {
        self.change(Some(key), |port, next, key| {
            let out = port.route(
                &order,
                &RouteOptions {
                    mode: Mode::Reserve {
                        ttl_s,
                        now: crate::ledger::now_unix(),
                    },
                    explain: false,
                },
            );
            self.metrics.decision("reserve", out.status, &out.rule);
            let Some(reservation) = out.reservation.clone() else {
                if let Some(o) = out.engine {
                    port.undo(Undo::Outcome(Box::new(o)));
                }
                return Err(ApiError::new(503, "the engine made no reservation"));
            };
            let undo: Vec<Undo> = out
                .engine
                .map(|o| Undo::Outcome(Box::new(o)))
                .into_iter()
                .collect();
            let batch = Batch {
                entries: dated(
                    entries(
                        &out.deltas,
                        next,
                        "reserve",
                        Some(reservation.id.as_str()),
                        Some(&order.id),
                        key,
                        Some(&out.ruleset),
                        None,
                    ),
                    order.placed_at.as_deref(),
                ),
                reservations: vec![reservation.clone()],
                ..Batch::default()
            };
            Ok(Prepared {
                batch,
                undo,
                answer: Answer {
                    status: 201,
                    // The reservation's decision is the one just written (no explain).
                    body: reservation_json_with(&reservation, out.decision.get()),
                },
                held_change: 1,
            })
        })
        .await
    }

    /// Confirms (`to` confirmed) or releases (`to` released) a reservation.
    pub async fn settle(
        &self,
        id: &str,
        to: ReservationState,
        key: Option<(String, String)>,
    ) -> Result<Answer, ApiError> {
        self.change(key, |port, next, key| {
            let result = match to {
                ReservationState::Confirmed => port.confirm(id),
                _ => port.release(id),
            };
            let t = result.map_err(|e| match e {
                ReservationError::NotHeld { state, .. } => ApiError::new(
                    409,
                    format!(
                        "reservation `{id}` is {}; only a held reservation can be {}",
                        state_word(state),
                        state_word(to)
                    ),
                ),
                ReservationError::Unknown { .. } => {
                    ApiError::new(404, format!("no reservation has the id `{id}`"))
                }
                other => ApiError::new(409, other.to_string()),
            })?;
            let kind = match to {
                ReservationState::Confirmed => "confirm",
                _ => "release",
            };
            Ok(self.transition_prepared(&t, next, key, kind))
        })
        .await
    }

    fn transition_prepared(
        &self,
        t: &Transition,
        next: u64,
        key: Option<&str>,
        kind: &str,
    ) -> Prepared {
        let changed = t.before != t.reservation.state;
        let batch = Batch {
            entries: dated(
                entries(
                    &t.deltas,
                    next,
                    kind,
                    Some(t.reservation.id.as_str()),
                    Some(&t.reservation.order),
                    key,
                    None,
                    None,
                ),
                t.reservation.placed_at.as_deref(),
            ),
            reservations: if changed {
                vec![t.reservation.clone()]
            } else {
                Vec::new()
            },
            ..Batch::default()
        };
        Prepared {
            batch,
            undo: if changed {
                if self.ledger.shared() {
                    vec![Undo::Reopen {
                        id: t.reservation.id.to_string(),
                        deltas: t.deltas.clone(),
                    }]
                } else {
                    vec![Undo::Transition(t.reservation.id.to_string())]
                }
            } else {
                Vec::new()
            },
            answer: Answer {
                status: 200,
                body: reservation_json(&t.reservation),
            },
            held_change: if changed { -1 } else { 0 },
        }
    }

    /// Applies a stock movement.
    pub async fn movement(
        &self,
        movement: Movement,
        kind: String,
        reference: Option<String>,
        key: Option<(String, String)>,
    ) -> Result<Answer, ApiError> {
        self.change(key, |port, next, key| {
            let moved = port.apply(&movement).map_err(|e| match e {
                MovementError::Expected { expected, current } => ApiError {
                    status: 409,
                    body: json!({
                        "error": format!("{}/{}: on hand is {current}, not the expected {expected}; nothing changed", movement.location, movement.sku),
                        "current": current,
                    }),
                },
                MovementError::UnknownLocation { location } => ApiError::new(
                    422,
                    format!("location: unknown location `{}`: it is not in the network", location.escape_debug()),
                ),
                other => ApiError::new(422, format!("{}/{}: {other}", movement.location, movement.sku)),
            })?;
            // A count sets on hand from what this instance knew: a shared ledger commits it
            // only while the pair's on hand is still that.
            let expect_on_hand = match movement.change {
                crate::engine_port::Change::Set { .. } => {
                    let before = i128::from(moved.figures.on_hand) - i128::from(moved.delta.on_hand);
                    vec![(next, u64::try_from(before).unwrap_or(0))]
                }
                crate::engine_port::Change::Delta(_) => Vec::new(),
            };
            let batch = Batch {
                entries: entries(
                    std::slice::from_ref(&moved.delta),
                    next,
                    &kind,
                    None,
                    None,
                    key,
                    None,
                    reference.as_deref(),
                ),
                expect_on_hand,
                ..Batch::default()
            };
            let body = json!({
                "seq": next,
                "on_hand": moved.figures.on_hand,
                "reserved": moved.figures.reserved,
                "atp": moved.figures.atp,
            });
            Ok(Prepared {
                batch,
                undo: vec![Undo::Moved(moved.delta)],
                answer: Answer {
                    status: 200,
                    body: body.to_string(),
                },
                held_change: 0,
            })
        })
        .await
    }

    /// Expires every held reservation due at `now` (unix seconds); the entries are handed
    /// to the writer without waiting. Returns how many expired.
    pub fn expire_due(&self, now: i64) -> usize {
        let mut seq = self.lock();
        let Some(tx) = seq.tx.clone() else {
            return 0;
        };
        // Over a shared ledger every instance would race to expire the same reservations
        // (one wins, the others conflict): the maker goes first.
        let expired = if self.ledger.shared() {
            self.port.expire_shared(now, SHARED_EXPIRY_GRACE_S)
        } else {
            self.port.expire(now)
        };
        if expired.is_empty() {
            return 0;
        }
        let first_seq = seq.next;
        let mut batch = Batch::default();
        let mut undo = Vec::new();
        for t in &expired {
            let p = self.transition_prepared(t, seq.next, None, "expiry");
            seq.next += p.batch.entries.len() as u64;
            batch.extend(&p.batch);
            undo.extend(p.undo);
        }
        let job = Job {
            first_seq,
            batch,
            undo,
            key: None,
            answer: None,
            reply: None,
            held_change: -(expired.len() as i64),
        };
        if let Err(mpsc::SendError(job)) = tx.send(job) {
            let mut exact = true;
            for undo in job.undo.into_iter().rev() {
                exact &= self.port.undo(undo);
            }
            seq.next = first_seq;
            seq.broken |= !exact;
            return 0;
        }
        expired.len()
    }
}
