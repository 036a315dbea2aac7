//! The rhai escape hatch: custom terms and predicates, compiled once per rule set and run in
//! a sandbox.
//!
//! In: the rule set's `script` declarations. Out: [`Scripts`], callable from expressions.
//! The rhai engine is raw (no packages, no modules, no I/O); it only sees the arguments it
//! is called with, and every limit is set: operations, call depth, expression depth,
//! string, array and map sizes. A rule set without scripts never touches rhai.

use super::expr::{Scope, Val};
use super::RulesError;
use rhai::{Dynamic, Engine, AST};
use sourcing_dsl::ir::{self, Expr};

/// Most rhai operations one call may take (a loop that does not end stops here).
const MAX_OPERATIONS: u64 = 50_000;
const MAX_CALL_LEVELS: usize = 16;
const MAX_EXPR_DEPTH: usize = 32;
const MAX_STRING: usize = 1_000;
const MAX_ARRAY: usize = 1_000;
const MAX_MAP: usize = 100;

/// The compiled scripts of one rule set.
pub(crate) struct Scripts {
    engine: Engine,
    compiled: Vec<(String, AST)>,
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
    engine
}

impl Scripts {
    /// Compiles every script of the rule set; a script that does not compile is an error
    /// located in the rule file.
    pub fn compile(rules: &ir::RuleSet) -> Result<Scripts, RulesError> {
        let engine = sandbox();
        let mut compiled = Vec::with_capacity(rules.scripts.len());
        for s in &rules.scripts {
            let params: Vec<&str> = s.params.iter().map(|(n, _)| n.as_str()).collect();
            // The body goes on its own lines so rhai's line numbers map back to the file.
            let text = format!("fn {}({}) {{\n{}\n}}", s.name, params.join(", "), s.code);
            let ast = engine.compile(&text).map_err(|e| RulesError::Script {
                script: s.name.clone(),
                offset: s.code_span.start,
                line_in_script: e.position().line().map(|l| l.saturating_sub(1)),
                message: e.to_string(),
            })?;
            compiled.push((s.name.clone(), ast));
        }
        Ok(Scripts { engine, compiled })
    }

    /// No scripts: what a rule set without `script` gets.
    pub fn none() -> Scripts {
        Scripts {
            engine: Engine::new_raw(),
            compiled: Vec::new(),
        }
    }

    /// Calls script `id`; a script that fails (an error, a limit reached) gives `Missing`.
    pub fn call<'a>(&self, id: usize, args: &'a [Expr], scope: &Scope<'a>) -> Val<'a> {
        let Some((name, ast)) = self.compiled.get(id) else {
            return Val::Missing;
        };
        let vals: Vec<Val<'a>> = args.iter().map(|a| scope.eval(a)).collect();
        // Numbers and booleans make a memo key; text arguments are not memoised.
        let key: Option<Vec<u64>> = vals
            .iter()
            .map(|v| match v {
                Val::Num(n) => Some(n.to_bits()),
                Val::Bool(b) => Some(u64::from(*b) | 1 << 63),
                _ => None,
            })
            .collect();
        if let Some(key) = &key {
            let memo = scope.order.memo.borrow();
            if let Some((_, _, v)) = memo.iter().find(|(i, k, _)| *i == id && k == key) {
                return *v;
            }
        }
        let values: Vec<Dynamic> = vals
            .iter()
            .map(|v| match *v {
                Val::Num(n) => Dynamic::from_float(n),
                Val::Bool(b) => Dynamic::from_bool(b),
                Val::Str(s) => Dynamic::from(s.to_string()),
                Val::Kind(k) => Dynamic::from(k.as_str().to_string()),
                Val::Fulfillment(f) => Dynamic::from(format!("{f:?}").to_lowercase()),
                Val::Weekday(d) => Dynamic::from(format!("{d:?}").to_lowercase()),
                Val::Missing => Dynamic::UNIT,
            })
            .collect();
        let result = self.run(name, ast, values);
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

    fn run<'a>(&self, name: &str, ast: &AST, values: Vec<Dynamic>) -> Val<'a> {
        let mut rhai_scope = rhai::Scope::new();
        match self
            .engine
            .call_fn::<Dynamic>(&mut rhai_scope, ast, name, values)
        {
            Ok(v) => {
                if let Some(b) = v.clone().try_cast::<bool>() {
                    Val::Bool(b)
                } else if let Ok(f) = v.as_float() {
                    Val::Num(f)
                } else if let Ok(i) = v.as_int() {
                    Val::Num(i as f64)
                } else {
                    Val::Missing
                }
            }
            Err(_) => Val::Missing,
        }
    }
}
