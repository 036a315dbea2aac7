//! Orders checked before they can be routed.
//!
//! In: an order's JSON text, or an [`Order`] built in code or deserialised. Out: a
//! [`ValidOrder`], the only kind of order [`crate::Engine::route`] takes, or an
//! [`OrderError`] listing every problem with its field path (`lines[0].qty`). Both run the
//! orders loader's own checks (`load::orders`), so the messages are the loader's and no
//! rule is written twice; an order from code is first written as JSON for it.

use crate::load::{self, LoadErrors};
use crate::model::network::Network;
use crate::model::order::Order;
use std::fmt;

/// An order the loader's checks accepted for one network: SKUs named, quantities ≥ 1,
/// finite weights and prices, coordinates on the globe, a pickup store that is a store of
/// the network, a promise in range. Get one from [`crate::Engine::parse_order`] or
/// [`crate::Engine::validate`] (or the loaders' `OrderReader::valid`).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidOrder(Order);

impl ValidOrder {
    /// Wraps an order that the loader produced (crate only: every other order is checked).
    pub(crate) fn loaded(order: Order) -> ValidOrder {
        ValidOrder(order)
    }

    /// The order.
    pub fn order(&self) -> &Order {
        &self.0
    }

    /// The order, to change it (it must then be validated again to be routed).
    pub fn into_inner(self) -> Order {
        self.0
    }
}

impl std::ops::Deref for ValidOrder {
    type Target = Order;
    fn deref(&self) -> &Order {
        &self.0
    }
}

impl std::borrow::Borrow<Order> for ValidOrder {
    fn borrow(&self) -> &Order {
        &self.0
    }
}

impl serde::Serialize for ValidOrder {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// One problem of an order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrderProblem {
    /// The field at fault, e.g. `lines[0].qty`, `ship_to.lat`; `None` for the text as a
    /// whole (not JSON, not an object).
    pub field: Option<String>,
    /// 1-based column in the order's JSON text (for an order from code: in its JSON form).
    pub column: usize,
    /// What was expected and what was found (the orders loader's words).
    pub message: String,
}

impl fmt::Display for OrderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => write!(f, "column {}: {}", self.column, self.message),
        }
    }
}

/// Why an order cannot be routed: every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrderError {
    /// The problems, in the order found (at most [`LoadErrors::MAX_SHOWN`]).
    pub problems: Vec<OrderProblem>,
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for OrderError {}

impl OrderError {
    fn one(field: &str, message: String) -> OrderError {
        OrderError {
            problems: vec![OrderProblem {
                field: Some(field.to_string()),
                column: 1,
                message,
            }],
        }
    }

    /// Whether a problem names this field path.
    pub fn names(&self, field: &str) -> bool {
        self.problems
            .iter()
            .any(|p| p.field.as_deref() == Some(field))
    }
}

impl From<LoadErrors> for OrderError {
    fn from(errors: LoadErrors) -> OrderError {
        OrderError {
            problems: errors
                .errors()
                .iter()
                .map(|e| OrderProblem {
                    field: e.field.clone(),
                    column: e.column,
                    message: e.message.clone(),
                })
                .collect(),
        }
    }
}

/// Checks one order's JSON text against a network.
pub(crate) fn parse(network: &Network, json: &str) -> Result<ValidOrder, OrderError> {
    load::parse_order("order", 1, json, network)
        .map(ValidOrder)
        .map_err(OrderError::from)
}

/// Checks an order built in code: non-finite numbers first (JSON cannot carry them), then
/// the loader's checks on its JSON form.
pub(crate) fn validate(network: &Network, order: Order) -> Result<ValidOrder, OrderError> {
    let not_finite = |field: String, x: f64| {
        (!x.is_finite())
            .then(|| OrderError::one(&field, format!("must be a finite number, found `{x}`")))
    };
    let mut found = not_finite("ship_to.lat".into(), order.ship_to.lat)
        .or_else(|| not_finite("ship_to.lon".into(), order.ship_to.lon));
    for (i, l) in order.lines.iter().enumerate() {
        found = found
            .or_else(|| not_finite(format!("lines[{i}].unit_weight_kg"), l.unit_weight_kg))
            .or_else(|| not_finite(format!("lines[{i}].unit_price"), l.unit_price));
    }
    if let Some(e) = found {
        return Err(e);
    }
    let json = serde_json::to_string(&order)
        .map_err(|e| OrderError::one("", format!("cannot be written as JSON: {e}")))?;
    parse(network, &json)
}
