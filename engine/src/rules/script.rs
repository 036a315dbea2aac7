//! The rhai escape hatch: custom terms and predicates, compiled once per rule set and run in
//! a sandbox.
//!
//! In: the rule set's `script` declarations. Out: [`Scripts`], callable from expressions.
//! The rhai engine is raw (no packages, no modules, no I/O); it only sees the arguments it
//! is called with, and every limit is set: operations (per call and per order), call depth,
//! expression depth, string, array and map sizes. A call that fails, hits a limit or returns
//! NaN or an infinite number is recorded as the order's failure ([`ScriptFailure`]); the rules then report the order as a
//! rule error instead of deciding it. A rule set without scripts never touches rhai.

use super::expr::{RuleFailure, Scope, Val};
use super::RulesError;
use rhai::{Dynamic, Engine, AST};
use sourcing_dsl::ir::{self, Expr};

/// Most rhai operations one call may take (a loop that does not end stops here).
const MAX_OPERATIONS: u64 = 50_000;
/// Most rhai operations all the calls for one order may take together (a term that stays
/// just under the per-call limit for every candidate stops here).
pub(crate) const MAX_ORDER_OPERATIONS: u64 = 5_000_000;

thread_local! {
    /// What the order being planned on this thread may still spend, for the call running now.
    static ALLOWED: std::cell::Cell<u64> = const { std::cell::Cell::new(u64::MAX) };
    /// Operations of the call running (or last run) on this thread.
    static SPENT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}
const MAX_CALL_LEVELS: usize = 16;
const MAX_EXPR_DEPTH: usize = 32;
const MAX_STRING: usize = 1_000;
const MAX_ARRAY: usize = 1_000;
const MAX_MAP: usize = 100;

/// Values of a script probed outside any order, by (script, argument bits).
type Probes = rustc_hash::FxHashMap<(usize, Vec<u64>), Option<Val<'static>>>;

/// Ranges of a script over every day count, by a key of the caller's (see
/// [`Scripts::over_days`]).
type Ranges = rustc_hash::FxHashMap<Vec<u64>, Probed>;

/// Most ranges kept: a script fed order facts with many values stops being memoised there.
const MAX_RANGES: usize = 100_000;

/// What a script gives over a range of arguments, as the search's bounds read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Probed {
    /// Numbers, from the least to the largest.
    Num(f64, f64),
    /// Booleans: `Some` when it is always the same one.
    Bool(Option<bool>),
    /// Anything (a failure, a value of another kind, a mix).
    Unknown,
}

/// The compiled scripts of one rule set.
pub(crate) struct Scripts {
    engine: Engine,
    compiled: Vec<(String, AST)>,
    /// Values probed for the search's bounds, by (script, argument bits).
    probes: std::sync::RwLock<Probes>,
    /// Whole ranges over the day counts, for the bounds: one look-up per order instead of
    /// one per day count.
    ranges: std::sync::RwLock<Ranges>,
}

/// A memo key for a number or a boolean argument; `None` for other values.
fn memo_key(v: &Val<'_>) -> Option<u64> {
    match v {
        Val::Num(n) => Some(n.to_bits()),
        Val::Bool(b) => Some(u64::from(*b) | 1 << 63),
        _ => None,
    }
}

fn to_dynamic(v: &Val<'_>) -> Dynamic {
    match *v {
        Val::Num(n) => Dynamic::from_float(n),
        Val::Bool(b) => Dynamic::from_bool(b),
        Val::Str(s) => Dynamic::from(s.to_string()),
        Val::Kind(k) => Dynamic::from(k.as_str().to_string()),
        Val::Fulfillment(f) => Dynamic::from(format!("{f:?}").to_lowercase()),
        Val::Weekday(d) => Dynamic::from(format!("{d:?}").to_lowercase()),
        Val::Date(d) => Dynamic::from(sourcing_dsl::date::format(d)),
        Val::Missing => Dynamic::UNIT,
    }
}

impl std::fmt::Debug for Scripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripts")
            .field(
                "names",
                &self.compiled.iter().map(|c| &c.0).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn sandbox() -> Engine {
    let mut engine = Engine::new_raw();
    engine.set_max_operations(MAX_OPERATIONS);
    engine.set_max_call_levels(MAX_CALL_LEVELS);
    engine.set_max_expr_depths(MAX_EXPR_DEPTH, MAX_EXPR_DEPTH);
    engine.set_max_string_size(MAX_STRING);
    engine.set_max_array_size(MAX_ARRAY);
    engine.set_max_map_size(MAX_MAP);
    // `eval` would compile code at run time; everything a rule runs is compiled up front.
    engine.disable_symbol("eval");
    // A raw engine already prints nothing; this keeps `print` and `debug` off stdout,
    // where `sourcing route` writes its decisions.
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    // A call runs on the thread that plans the order: the order's budget is thread-local.
    engine.on_progress(|ops| {
        SPENT.with(|s| s.set(ops));
        (ops > ALLOWED.with(std::cell::Cell::get)).then_some(Dynamic::UNIT)
    });
    engine
}

/// Why a script does not compile: where rhai stopped (a byte offset in the rule file) and
/// rhai's message without its position.
pub(crate) struct CompileError {
    pub offset: usize,
    pub message: String,
}

/// Compiles one script with the sandbox's settings.
fn compile_one(engine: &Engine, s: &ir::Script) -> Result<AST, CompileError> {
    let params: Vec<&str> = s.params.iter().map(|(n, _)| n.as_str()).collect();
    // The body goes on its own lines so rhai's line numbers map back to the file.
    let text = format!("fn {}({}) {{\n{}\n}}", s.name, params.join(", "), s.code);
    engine.compile(&text).map_err(|e| CompileError {
        offset: file_offset(s, e.position()),
        message: e.err_type().to_string(),
    })
}

/// The byte offset in the rule file of a position rhai gives in the wrapped text of `s`:
/// line 1 is the wrapper's `fn name(params) {` (the script's declaration), the code starts
/// on line 2, and the line after the code is the wrapper's `}` (the end of the code).
fn file_offset(s: &ir::Script, pos: rhai::Position) -> usize {
    let Some(line) = pos.line() else {
        return s.code_span.start;
    };
    if line < 2 {
        return s.span.start;
    }
    let mut start = 0;
    for _ in 2..line {
        match s.code.get(start..).and_then(|rest| rest.find('\n')) {
            Some(i) => start += i + 1,
            None => return s.code_span.end,
        }
    }
    let text = s.code.get(start..).unwrap_or_default();
    let text = text.split('\n').next().unwrap_or_default();
    // rhai counts characters from 1.
    let col = pos.position().unwrap_or(1).saturating_sub(1);
    let within = text.char_indices().nth(col).map_or(text.len(), |(i, _)| i);
    s.code_span.start + start + within
}

/// Compiles every script of a checked rule set with the engine's sandbox, as routing will:
/// one diagnostic (`C022`) per script that does not compile, at the place rhai stopped.
pub fn check_scripts(rules: &ir::RuleSet) -> Vec<sourcing_dsl::Diagnostic> {
    if rules.scripts.is_empty() {
        return Vec::new();
    }
    let engine = sandbox();
    rules
        .scripts
        .iter()
        .filter_map(|s| compile_one(&engine, s).err().map(|e| (s, e)))
        .map(|(s, e)| {
            // The rest of the line from where rhai stopped (at least the place itself).
            let rest = rules.source.text.get(e.offset..).unwrap_or_default();
            let end = e.offset + rest.find('\n').unwrap_or(rest.len());
            let span = sourcing_dsl::Span::new(e.offset, end.min(s.code_span.end.max(e.offset)));
            sourcing_dsl::Diagnostic::script_does_not_compile(span, &s.name, &e.message)
        })
        .collect()
}

impl Scripts {
    /// Compiles every script of the rule set; a script that does not compile is an error
    /// located in the rule file.
    pub fn compile(rules: &ir::RuleSet) -> Result<Scripts, RulesError> {
        let engine = sandbox();
        let mut compiled = Vec::with_capacity(rules.scripts.len());
        for s in &rules.scripts {
            let ast = compile_one(&engine, s).map_err(|e| {
                let (line, col) = rules.line_col(e.offset);
                RulesError::Script {
                    at: format!("{}:{line}:{col}", rules.source_name),
                    script: s.name.clone(),
                    offset: e.offset,
                    message: e.message,
                }
            })?;
            compiled.push((s.name.clone(), ast));
        }
        Ok(Scripts {
            engine,
            compiled,
            probes: Default::default(),
            ranges: Default::default(),
        })
    }

    /// No scripts: what a rule set without `script` gets.
    pub fn none() -> Scripts {
        Scripts {
            engine: Engine::new_raw(),
            compiled: Vec::new(),
            probes: Default::default(),
            ranges: Default::default(),
        }
    }

    /// Calls script `id` at `call` (the call's byte offset in the rule file).
    ///
    /// An argument without value gives no value, without running the script. A script that
    /// fails (an error, a sandbox limit, a result that is not a finite number or a boolean)
    /// gives no value and is recorded as the order's failure: the rules then cannot decide the order.
    /// Once an order has a failure, no script runs again for it.
    pub fn call<'a>(&self, id: usize, call: usize, args: &'a [Expr], scope: &Scope<'a>) -> Val<'a> {
        let Some((name, ast)) = self.compiled.get(id) else {
            return Val::Missing;
        };
        if scope.order.failure.borrow().is_some() {
            return Val::Missing;
        }
        let vals: Vec<Val<'a>> = args.iter().map(|a| scope.eval(a)).collect();
        if vals.contains(&Val::Missing) {
            return Val::Missing;
        }
        // Numbers and booleans make a memo key; text arguments are not memoised.
        // Looked up without building the key: most calls are answered by the memo.
        {
            let memo = scope.order.memo.borrow();
            let hit = memo.iter().find(|(i, k, _)| {
                *i == id
                    && k.len() == vals.len()
                    && k.iter().zip(&vals).all(|(k, v)| memo_key(v) == Some(*k))
            });
            if let Some((_, _, v)) = hit {
                return *v;
            }
        }
        let key: Option<Vec<u64>> = vals.iter().map(memo_key).collect();
        let values: Vec<Dynamic> = vals.iter().map(to_dynamic).collect();
        let left = scope.order.operations_left.get();
        ALLOWED.with(|a| a.set(left));
        SPENT.with(|s| s.set(0));
        let outcome = self.run(name, ast, values);
        let spent = SPENT.with(std::cell::Cell::get);
        scope.order.operations_left.set(left.saturating_sub(spent));
        let result = match outcome {
            Ok(v) => v,
            Err(problem) => {
                scope.order.fail(RuleFailure::Script(ScriptFailure {
                    script: id,
                    call,
                    problem,
                }));
                Val::Missing
            }
        };
        if let Some(key) = key {
            let stored: Val<'static> = match result {
                Val::Num(n) => Val::Num(n),
                Val::Bool(b) => Val::Bool(b),
                _ => Val::Missing,
            };
            scope.order.memo.borrow_mut().push((id, key, stored));
        }
        result
    }

    /// The value of script `id` at numeric or boolean arguments, for the search's bounds:
    /// run outside any order (no order's budget spent, no failure recorded) and kept for
    /// the rule set's lifetime, since a script is a pure function of its arguments. `None`
    /// when the script fails there or an argument is of another kind.
    pub fn probe(&self, id: usize, args: &[Val<'_>]) -> Option<Val<'static>> {
        let (name, ast) = self.compiled.get(id)?;
        let key: Vec<u64> = args.iter().map(memo_key).collect::<Option<_>>()?;
        if let Ok(cache) = self.probes.read() {
            if let Some(v) = cache.get(&(id, key.clone())) {
                return *v;
            }
        }
        let (allowed, spent) = (
            ALLOWED.with(std::cell::Cell::get),
            SPENT.with(std::cell::Cell::get),
        );
        ALLOWED.with(|a| a.set(MAX_OPERATIONS));
        let values: Vec<Dynamic> = args.iter().map(to_dynamic).collect();
        let value = match self.run(name, ast, values) {
            Ok(Val::Num(n)) => Some(Val::Num(n)),
            Ok(Val::Bool(b)) => Some(Val::Bool(b)),
            _ => None,
        };
        ALLOWED.with(|a| a.set(allowed));
        SPENT.with(|s| s.set(spent));
        if let Ok(mut cache) = self.probes.write() {
            cache.insert((id, key), value);
        }
        value
    }

    /// A range over day counts, memoised by `key` (which must name the script, its fixed
    /// arguments and the days probed): `compute` probes it the first time only. Probes are
    /// pure functions of their arguments, so the memo never changes a bound.
    pub fn over_days(&self, key: &[u64], compute: impl FnOnce() -> Probed) -> Probed {
        if let Ok(cache) = self.ranges.read() {
            if let Some(p) = cache.get(key) {
                return *p;
            }
        }
        let value = compute();
        if let Ok(mut cache) = self.ranges.write() {
            if cache.len() < MAX_RANGES {
                cache.insert(key.to_vec(), value);
            }
        }
        value
    }

    /// The script's name.
    pub fn name(&self, id: usize) -> &str {
        self.compiled.get(id).map_or("", |c| c.0.as_str())
    }

    fn run<'a>(&self, name: &str, ast: &AST, values: Vec<Dynamic>) -> Result<Val<'a>, Problem> {
        let mut rhai_scope = rhai::Scope::new();
        match self
            .engine
            .call_fn::<Dynamic>(&mut rhai_scope, ast, name, values)
        {
            Ok(v) => {
                if let Some(b) = v.clone().try_cast::<bool>() {
                    Ok(Val::Bool(b))
                } else if let Ok(f) = v.as_float() {
                    // `1.0 / 0.0` is infinite and `0.0 / 0.0` NaN in rhai: no value to rank by.
                    if f.is_finite() {
                        Ok(Val::Num(f))
                    } else {
                        Err(Problem::NotFinite(f))
                    }
                } else if let Ok(i) = v.as_int() {
                    Ok(Val::Num(i as f64))
                } else {
                    Err(Problem::Result(v.type_name().to_string()))
                }
            }
            Err(e) => Err(Problem::from_rhai(*e)),
        }
    }
}

/// What went wrong in one script call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Problem {
    /// More than [`MAX_OPERATIONS`] operations.
    Operations,
    /// The order's calls together took more than [`MAX_ORDER_OPERATIONS`] operations.
    OrderOperations,
    /// Calls nested more than [`MAX_CALL_LEVELS`] deep.
    CallDepth,
    /// A string, array or map over its limit (`what` names which).
    TooLarge(&'static str),
    /// Any other error rhai reports, with the line of the script's code it happened on
    /// (1 = the first line of the code), when known.
    Error {
        /// rhai's message, without its position.
        message: String,
        /// The line within the script's code.
        line: Option<usize>,
    },
    /// The script returned something that is neither a number nor a boolean.
    Result(String),
    /// The script returned a number that is not finite (NaN or infinite).
    NotFinite(f64),
}

impl Problem {
    fn from_rhai(mut e: rhai::EvalAltResult) -> Problem {
        use rhai::EvalAltResult as E;
        match &e {
            E::ErrorTooManyOperations(_) => Problem::Operations,
            E::ErrorStackOverflow(_) => Problem::CallDepth,
            E::ErrorTerminated(..) => Problem::OrderOperations,
            E::ErrorDataTooLarge(what, _) => {
                let what = what.to_lowercase();
                Problem::TooLarge(if what.contains("string") {
                    "a string longer than 1,000 characters"
                } else if what.contains("array") {
                    "an array of more than 1,000 items"
                } else {
                    "a map of more than 100 entries"
                })
            }
            _ => {
                // The wrapper `fn name(..) {` is line 1; the code starts on line 2.
                let line = e.take_position().line().map(|l| l.saturating_sub(1));
                Problem::Error {
                    message: e.to_string(),
                    line,
                }
            }
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Operations => write!(
                f,
                "stopped after {MAX_OPERATIONS} operations (does it loop forever?)"
            ),
            Problem::OrderOperations => write!(
                f,
                "stopped: the scripts of this order took more than {MAX_ORDER_OPERATIONS} operations together"
            ),
            Problem::CallDepth => write!(
                f,
                "stopped: calls nested more than {MAX_CALL_LEVELS} levels deep (endless recursion?)"
            ),
            Problem::TooLarge(what) => write!(f, "stopped: it built {what}"),
            Problem::Error { message, .. } => write!(f, "failed: {message}"),
            Problem::Result(ty) => write!(f, "returned {ty}, not a number or a boolean"),
            Problem::NotFinite(x) => write!(f, "returned {x}, not a finite number"),
        }
    }
}

/// A script call that failed while an order was routed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScriptFailure {
    /// The script's index.
    pub script: usize,
    /// Byte offset of the call in the rule file.
    pub call: usize,
    /// What went wrong.
    pub problem: Problem,
}
