//! The facts rules may read, their types, and where each may be read.
//!
//! In: names as written (`order.channel`, `distance`). Out: resolved [`Fact`]s with their
//! [`Type`] and [`Deps`]. The tables here are the single source of truth for names; the
//! checker's "did you mean" suggestions draw from them, and `docs/language.md` lists them.

use crate::ir::{Deps, Elem, Fact, LineFact, LocationFact, OrderFact, Term, Type, Unit};

/// One readable fact.
pub(crate) struct FactInfo {
    /// The name after the owner (`channel` in `order.channel`), or the bare term name.
    pub name: &'static str,
    /// What it resolves to.
    pub fact: Fact,
    /// Its type.
    pub ty: Type,
}

const fn info(name: &'static str, fact: Fact, ty: Type) -> FactInfo {
    FactInfo { name, fact, ty }
}

const STR: Type = Type::Str;
const NUM: Type = Type::Number(Unit::None);
const STRS: Type = Type::List(Elem::Str);

/// `order.*`.
pub(crate) const ORDER: &[FactInfo] = &[
    info("id", Fact::Order(OrderFact::Id), STR),
    info("channel", Fact::Order(OrderFact::Channel), STR),
    info("customer_tier", Fact::Order(OrderFact::CustomerTier), STR),
    info(
        "ship_to.country",
        Fact::Order(OrderFact::ShipToCountry),
        STR,
    ),
    info("ship_to.region", Fact::Order(OrderFact::ShipToRegion), STR),
    info(
        "ship_to.postal_code",
        Fact::Order(OrderFact::ShipToPostalCode),
        STR,
    ),
    info(
        "fulfillment",
        Fact::Order(OrderFact::Fulfillment),
        Type::Fulfillment,
    ),
    info(
        "pickup_location",
        Fact::Order(OrderFact::PickupLocation),
        STR,
    ),
    info(
        "promise_days",
        Fact::Order(OrderFact::PromiseDays),
        Type::Number(Unit::Days),
    ),
    info(
        "has_promise",
        Fact::Order(OrderFact::HasPromise),
        Type::Bool,
    ),
    info(
        "value",
        Fact::Order(OrderFact::Value),
        Type::Number(Unit::Money),
    ),
    info("lines", Fact::Order(OrderFact::Lines), NUM),
    info("units", Fact::Order(OrderFact::Units), NUM),
    info(
        "weight",
        Fact::Order(OrderFact::Weight),
        Type::Number(Unit::Kg),
    ),
    info(
        "placed_at.weekday",
        Fact::Order(OrderFact::Weekday),
        Type::Weekday,
    ),
    info("placed_at.hour", Fact::Order(OrderFact::Hour), NUM),
    info("placed_at.date", Fact::Order(OrderFact::Date), Type::Date),
    info("tags", Fact::Order(OrderFact::Tags), STRS),
    info(
        "pickup_store.tags",
        Fact::Order(OrderFact::PickupStoreTags),
        STRS,
    ),
];

/// `line.*`.
pub(crate) const LINE: &[FactInfo] = &[
    info("index", Fact::Line(LineFact::Index), NUM),
    info("sku", Fact::Line(LineFact::Sku), STR),
    info("qty", Fact::Line(LineFact::Qty), NUM),
    info(
        "unit_weight_kg",
        Fact::Line(LineFact::UnitWeight),
        Type::Number(Unit::Kg),
    ),
    info(
        "unit_price",
        Fact::Line(LineFact::UnitPrice),
        Type::Number(Unit::Money),
    ),
    info(
        "weight",
        Fact::Line(LineFact::Weight),
        Type::Number(Unit::Kg),
    ),
    info(
        "value",
        Fact::Line(LineFact::Value),
        Type::Number(Unit::Money),
    ),
    info("tags", Fact::Line(LineFact::Tags), STRS),
    info("group", Fact::Line(LineFact::Group), STR),
    info("pack_size", Fact::Line(LineFact::PackSize), NUM),
];

/// `location.*`; also readable bare (`kind`, `region`) where location facts are allowed.
pub(crate) const LOCATION: &[FactInfo] = &[
    info("id", Fact::Location(LocationFact::Id), STR),
    info("kind", Fact::Location(LocationFact::Kind), Type::Kind),
    info("country", Fact::Location(LocationFact::Country), STR),
    info("region", Fact::Location(LocationFact::Region), STR),
    info("tags", Fact::Location(LocationFact::Tags), STRS),
    info(
        "handling_cost",
        Fact::Location(LocationFact::HandlingCost),
        Type::Number(Unit::Money),
    ),
    info(
        "processing_days",
        Fact::Location(LocationFact::ProcessingDays),
        Type::Number(Unit::Days),
    ),
    info(
        "daily_capacity",
        Fact::Location(LocationFact::DailyCapacity),
        NUM,
    ),
    info("priority", Fact::Location(LocationFact::Priority), NUM),
];

/// Built-in terms, read bare.
pub(crate) const TERMS: &[FactInfo] = &[
    info(
        "distance",
        Fact::Term(Term::Distance),
        Type::Number(Unit::Km),
    ),
    info(
        "distance_km",
        Fact::Term(Term::Distance),
        Type::Number(Unit::Km),
    ),
    info("in_market", Fact::Term(Term::InMarket), Type::Bool),
    info("meets_promise", Fact::Term(Term::MeetsPromise), Type::Bool),
    info("capacity_left", Fact::Term(Term::CapacityLeft), NUM),
    info(
        "capacity_utilisation",
        Fact::Term(Term::CapacityUtilisation),
        Type::Number(Unit::Percent),
    ),
    info(
        "capacity_utilization",
        Fact::Term(Term::CapacityUtilisation),
        Type::Number(Unit::Percent),
    ),
    info("days", Fact::Term(Term::Days), Type::Number(Unit::Days)),
    info("cost", Fact::Term(Term::Cost), Type::Number(Unit::Money)),
    info("atp", Fact::Term(Term::Atp), NUM),
    info("stock_cover", Fact::Term(Term::StockCover), NUM),
    info("shipments", Fact::Term(Term::Shipments), NUM),
];

/// Names of `rank by` criteria that are not terms.
pub(crate) const CRITERIA: &[&str] = &["fewest_shipments", "priority", "in_market", "score"];

/// Bare words that stand for values.
pub(crate) const VALUE_WORDS: &[&str] = &["dc", "store", "dropship", "ship", "pickup"];

/// Built-in function names.
pub(crate) const FUNCTIONS: &[&str] = &["min", "max", "abs"];

/// Names a constant, group or script may not take.
pub(crate) fn is_reserved(name: &str) -> bool {
    TERMS.iter().any(|t| t.name == name)
        || LOCATION.iter().any(|t| t.name == name)
        || CRITERIA.contains(&name)
        || VALUE_WORDS.contains(&name)
        || FUNCTIONS.contains(&name)
        || matches!(
            name,
            "order"
                | "line"
                | "location"
                | "all"
                | "locations"
                | "dcs"
                | "stores"
                | "dropships"
                | "pickup_store"
        )
}

/// What reading a fact makes an expression depend on.
pub(crate) fn deps_of(fact: &Fact) -> Deps {
    let mut d = Deps::default();
    match fact {
        Fact::Order(_) => d.order = true,
        Fact::Line(_) => d.line = true,
        Fact::Location(_) => d.location = true,
        Fact::Term(t) => match t {
            Term::Distance
            | Term::InMarket
            | Term::MeetsPromise
            | Term::CapacityLeft
            | Term::CapacityUtilisation => d.pair = true,
            Term::Days | Term::Cost => d.shipment = true,
            Term::Atp | Term::StockCover => d.stock = true,
            Term::Shipments => d.plan = true,
        },
    }
    d
}

/// Looks a name up in a table.
pub(crate) fn lookup<'a>(table: &'a [FactInfo], name: &str) -> Option<&'a FactInfo> {
    table.iter().find(|f| f.name == name)
}
