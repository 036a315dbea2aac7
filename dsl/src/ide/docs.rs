//! The reference tables of `docs/language.md`, kept here once: hovers and completions show
//! these rows, and a test (`dsl/tests/ide.rs`) checks that each table in the guide, after its
//! `<!-- table: NAME -->` marker, is exactly the table rendered from here.

/// A table of the language guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// The name after `<!-- table:` in `docs/language.md`.
    pub name: &'static str,
    /// The header cells.
    pub headers: &'static [&'static str],
}

/// One row of a guide table, with the words a hover on which shows it.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The table the row belongs to.
    pub table: &'static Table,
    /// The words (or dotted paths, or multi-word keywords) it documents.
    pub keys: &'static [&'static str],
    /// The row's cells, markdown as in the guide.
    pub cells: &'static [&'static str],
}

impl Entry {
    /// The row as a markdown table line.
    pub fn row(&self) -> String {
        format!("| {} |", self.cells.join(" | "))
    }

    /// The markdown a hover shows: the table's header and this row.
    pub fn markdown(&self) -> String {
        format!("{}\n{}", header(self.table), self.row().replace('\n', " "))
    }

    /// The meaning: the last cell but for tables whose second cell is the meaning.
    pub fn summary(&self) -> &'static str {
        match self.table.name {
            "terms" | "order-facts" | "line-facts" | "location-facts" => {
                self.cells.get(2).copied().unwrap_or_default()
            }
            _ => self.cells.get(1).copied().unwrap_or_default(),
        }
    }
}

/// The header and separator lines of a table.
pub fn header(table: &Table) -> String {
    let seps: Vec<&str> = table.headers.iter().map(|_| "---").collect();
    format!(
        "| {} |\n| {} |",
        table.headers.join(" | "),
        seps.join(" | ")
    )
}

/// A whole table as the guide shows it.
pub fn render(table: &Table) -> String {
    let mut out = header(table);
    for e in ENTRIES.iter().filter(|e| e.table.name == table.name) {
        out.push('\n');
        out.push_str(&e.row());
    }
    out
}

const fn e(
    table: &'static Table,
    keys: &'static [&'static str],
    cells: &'static [&'static str],
) -> Entry {
    Entry { table, keys, cells }
}

/// Top-level declarations.
pub const DECLARATIONS: Table = Table {
    name: "declarations",
    headers: &["declaration", "meaning"],
};
/// Strategy clauses.
pub const CLAUSES: Table = Table {
    name: "clauses",
    headers: &["clause", "meaning", "default"],
};
/// `rank by` keys.
pub const RANK_KEYS: Table = Table {
    name: "rank-keys",
    headers: &["key", "compares (over the plan's shipments)"],
};
/// Bases of location sets.
pub const SET_BASES: Table = Table {
    name: "set-bases",
    headers: &["base", "locations"],
};
/// Filters of location sets.
pub const SET_FILTERS: Table = Table {
    name: "set-filters",
    headers: &["filter", "keeps"],
};
/// Operators and built-in functions.
pub const OPERATORS: Table = Table {
    name: "operators",
    headers: &["operators, loosest first", ""],
};
/// `order.*` facts.
pub const ORDER_FACTS: Table = Table {
    name: "order-facts",
    headers: &["fact", "type", "meaning"],
};
/// `line.*` facts.
pub const LINE_FACTS: Table = Table {
    name: "line-facts",
    headers: &["fact", "type", "meaning"],
};
/// `location.*` facts.
pub const LOCATION_FACTS: Table = Table {
    name: "location-facts",
    headers: &["fact", "type", "meaning"],
};
/// Terms the engine computes.
pub const TERMS: Table = Table {
    name: "terms",
    headers: &["term", "type", "meaning"],
};
/// Types of script signatures and units.
pub const TYPES: Table = Table {
    name: "types",
    headers: &["type", "unit written after a number", "holds"],
};

/// Every table, in the guide's order.
pub const TABLES: &[&Table] = &[
    &DECLARATIONS,
    &CLAUSES,
    &RANK_KEYS,
    &SET_BASES,
    &SET_FILTERS,
    &OPERATORS,
    &ORDER_FACTS,
    &LINE_FACTS,
    &LOCATION_FACTS,
    &TERMS,
    &TYPES,
];

/// Every documented row.
pub const ENTRIES: &[Entry] = &[
    // Declarations.
    e(&DECLARATIONS, &["const"], &["`const <name> = <value>`", "names a number (with its unit) or a boolean once; `sourcing simulate --set name=value` tries another value without editing the file"]),
    e(&DECLARATIONS, &["group"], &["`group <name> = <set>, <set>`", "names a [location set](#location-sets) (commas make a union); its filters read location facts only"]),
    e(&DECLARATIONS, &["script"], &["`script <name>(<param>: <type>, …) -> <type> { … }`", "a custom term or condition written in rhai, called like a function (see [scripts](#scripts))"]),
    e(&DECLARATIONS, &["strategy"], &["`strategy \"<name>\" { <clauses> }`", "one way of sourcing an order; strategies are tried in file order"]),
    // Clauses.
    e(&CLAUSES, &["when"], &["`when <condition>`", "chooses the strategy; may read `order.*` facts only", "always chosen"]),
    e(&CLAUSES, &["candidates"], &["`candidates <set>, <set>`", "where units may come from (union)", "required"]),
    e(&CLAUSES, &["exclude", "reason", "location"], &["`exclude <target> when <condition> [reason \"…\"]`", "drops candidates", "—"]),
    e(&CLAUSES, &["prefer"], &["`prefer <set>, …`", "take from these candidates first (never adds a location); several `prefer` clauses are tiers, first tier first", "—"]),
    e(&CLAUSES, &["score"], &["`score <number>`", "rates a plan: summed over its shipments, lower is better", "`cost`"]),
    e(&CLAUSES, &["rank by"], &["`rank by <key>, then <key> …`", "lexicographic comparison of plans", "`score`, or `cost`"]),
    e(&CLAUSES, &["fill by"], &["`fill by <key>, then <key> …`", "takes locations one after another in this order, each giving what it can, instead of comparing plans (no `rank by` or `score` beside it); ties by `priority`, then id", "—"]),
    e(&CLAUSES, &["split", "none", "at most", "allowed"], &["`split none` / `split at most N` / `split allowed`", "how many shipments a plan may have", "`split allowed`"]),
    e(&CLAUSES, &["penalty"], &["`…, penalty <amount>`", "added per shipment beyond the first", "none"]),
    e(&CLAUSES, &["lines whole", "lines may split"], &["`…, lines whole` / `…, lines may split`", "whether one line may come from several locations", "`lines may split`"]),
    e(&CLAUSES, &["promise", "required", "preferred", "ignored"], &["`promise required` / `promise preferred [, penalty <amount>]` / `promise ignored`", "plans with late shipments: forbidden / allowed with a penalty per late shipment / allowed", "`promise ignored`"]),
    e(&CLAUSES, &["all or nothing"], &["`all or nothing`", "place the whole order here, or hand all of it on", "off: the strategy places what it can (partial allowed) and hands on the rest"]),
    e(&CLAUSES, &["ship complete"], &["`ship complete`", "the whole order in one shipment from one location, or hand all of it on (`split none` + `all or nothing`)", "off"]),
    e(&CLAUSES, &["fallback"], &["`fallback \"name\"`", "hand unplaced units to another strategy", "—"]),
    e(&CLAUSES, &["otherwise", "backorder", "unsourced"], &["`otherwise backorder` / `otherwise unsourced`", "report unplaced units", "`otherwise unsourced`"]),
    // Rank keys.
    e(&RANK_KEYS, &["fewest_shipments"], &["`fewest_shipments`", "the number of shipments"]),
    e(&RANK_KEYS, &["cost"], &["`cost`", "total cost (plus penalties)"]),
    e(&RANK_KEYS, &["days"], &["`days`", "the latest arrival (largest `days`)"]),
    e(&RANK_KEYS, &["distance", "distance_km"], &["`distance`", "total distance"]),
    e(&RANK_KEYS, &["priority"], &["`priority`", "the worst location priority (absent counts as last)"]),
    e(&RANK_KEYS, &["in_market"], &["`in_market`", "the number of shipments from outside the ship-to country"]),
    e(&RANK_KEYS, &["score"], &["`score`", "the strategy's score (plus penalties)"]),
    e(&RANK_KEYS, &[], &["any numeric expression", "its value at each shipping location, summed over the shipments; a condition counts the shipments where it is false (see [keys read per location](#keys-read-per-location))"]),
    e(&RANK_KEYS, &["desc", "asc"], &["`<key> desc` / `<key> asc`", "larger values first / smaller values first (the default)"]),
    // Set bases.
    e(&SET_BASES, &["all", "locations"], &["`all` (also `locations`)", "every location"]),
    e(&SET_BASES, &["dcs", "stores", "dropship", "dropships", "dc", "store"], &["`dcs`, `stores`, `dropship`", "by kind"]),
    e(&SET_BASES, &["pickup_store"], &["`pickup_store`", "the store a pickup order names (empty for shipped orders; not in groups)"]),
    e(&SET_BASES, &[], &["`[\"DC-KASSEL\", \"ST-HAMBURG\"]`", "by id (ids the network does not have are ignored)"]),
    e(&SET_BASES, &[], &["a group name", "the group"]),
    // Set filters.
    e(&SET_FILTERS, &["tagged"], &["`tagged \"hazmat\"`", "locations with the tag"]),
    e(&SET_FILTERS, &["in country", "in region"], &["`in country \"DE\"` / `in region \"BY\"`", "locations there"]),
    e(&SET_FILTERS, &["where"], &["`where <condition>`", "locations for which the condition holds; write it last"]),
    // Operators.
    e(&OPERATORS, &["if", "then", "else", "?"], &["`c ? a : b`, `if c then a else b`", "conditional (both branches of one type)"]),
    e(&OPERATORS, &["or"], &["`or`", "either holds"]),
    e(&OPERATORS, &["and"], &["`and`", "both hold"]),
    e(&OPERATORS, &["not"], &["`not`", "negation: `not location.tags has \"hazmat\"` means `not (location.tags has \"hazmat\")`"]),
    e(&OPERATORS, &["==", "!=", "<", "<=", ">", ">="], &["`==` `!=` `<` `<=` `>` `>=`", "comparisons (do not chain: `a < b < c` is `S012`)"]),
    e(&OPERATORS, &["in", "has", "starts with"], &["`in`, `has`, `starts with`", "`x in [\"a\", \"b\"]`, `list has x`, `order.ship_to.postal_code starts with [\"20\", \"21\"]`"]),
    e(&OPERATORS, &["+", "-"], &["`+` `-`", "sums"]),
    e(&OPERATORS, &["*", "/"], &["`*` `/`", "products"]),
    e(&OPERATORS, &[], &["`-x`", "negation of a number"]),
    e(&OPERATORS, &["min", "max", "abs"], &["`min(a, b, …)`, `max(a, b, …)`, `abs(x)`", "built-in functions: the least, the largest, the size without sign"]),
    e(&OPERATORS, &["true", "false"], &["`true`, `false`", "the two conditions"]),
    // Order facts.
    e(&ORDER_FACTS, &["order.id"], &["`order.id`", "text", "the order's id"]),
    e(&ORDER_FACTS, &["order.channel"], &["`order.channel`", "text", "the sales channel (`web`, `app`, …)"]),
    e(&ORDER_FACTS, &["order.customer_tier"], &["`order.customer_tier`", "text", "the customer's tier"]),
    e(&ORDER_FACTS, &["order.ship_to.country"], &["`order.ship_to.country`", "text", "the ship-to country"]),
    e(&ORDER_FACTS, &["order.ship_to.region"], &["`order.ship_to.region`", "text", "the ship-to region"]),
    e(&ORDER_FACTS, &["order.ship_to.postal_code"], &["`order.ship_to.postal_code`", "text", "the ship-to postal code"]),
    e(&ORDER_FACTS, &["order.fulfillment", "ship", "pickup"], &["`order.fulfillment`", "`ship` / `pickup`", "shipped, or handed out at a store"]),
    e(&ORDER_FACTS, &["order.pickup_location"], &["`order.pickup_location`", "text", "the id of the store a pickup order names"]),
    e(&ORDER_FACTS, &["order.promise_days"], &["`order.promise_days`", "days", "the promise; an order without promise behaves as if it had infinitely many, so `order.promise_days <= 2 days` is false"]),
    e(&ORDER_FACTS, &["order.has_promise"], &["`order.has_promise`", "bool", "the order has a promise"]),
    e(&ORDER_FACTS, &["order.value"], &["`order.value`", "money", "qty × unit price, summed over the lines"]),
    e(&ORDER_FACTS, &["order.lines"], &["`order.lines`", "number", "how many lines"]),
    e(&ORDER_FACTS, &["order.units"], &["`order.units`", "number", "how many units, over all lines"]),
    e(&ORDER_FACTS, &["order.weight"], &["`order.weight`", "kg", "the weight of every unit"]),
    e(&ORDER_FACTS, &["order.placed_at.weekday"], &["`order.placed_at.weekday`", "weekday", "`\"mon\"` … `\"sun\"`, UTC"]),
    e(&ORDER_FACTS, &["order.placed_at.hour"], &["`order.placed_at.hour`", "number", "0–23, UTC"]),
    e(&ORDER_FACTS, &["order.placed_at.date"], &["`order.placed_at.date`", "date", "the day the order was placed, UTC; compared with dates written `2026-12-20`"]),
    e(&ORDER_FACTS, &["order.tags"], &["`order.tags`", "list of text", "the union of the lines' tags"]),
    e(&ORDER_FACTS, &["order.pickup_store.tags"], &["`order.pickup_store.tags`", "list of text", "the pickup store's tags; none for shipped orders"]),
    e(&ORDER_FACTS, &["order.attr.<name>"], &["`order.attr.<name>`", "any", "any other field of the order"]),
    // Line facts.
    e(&LINE_FACTS, &["line.index"], &["`line.index`", "number", "the line's place in the order, from 0"]),
    e(&LINE_FACTS, &["line.sku"], &["`line.sku`", "text", "the SKU"]),
    e(&LINE_FACTS, &["line.qty"], &["`line.qty`", "number", "the units ordered"]),
    e(&LINE_FACTS, &["line.unit_weight_kg"], &["`line.unit_weight_kg`", "kg", "the weight of one unit"]),
    e(&LINE_FACTS, &["line.unit_price"], &["`line.unit_price`", "money", "the price of one unit"]),
    e(&LINE_FACTS, &["line.weight"], &["`line.weight`", "kg", "qty × unit weight"]),
    e(&LINE_FACTS, &["line.value"], &["`line.value`", "money", "qty × unit price"]),
    e(&LINE_FACTS, &["line.tags"], &["`line.tags`", "list of text", "the line's tags"]),
    e(&LINE_FACTS, &["line.group"], &["`line.group`", "text", "the kit the line belongs to (empty if absent)"]),
    e(&LINE_FACTS, &["line.pack_size"], &["`line.pack_size`", "number", "units per pack (1 if absent)"]),
    e(&LINE_FACTS, &["line.attr.<name>"], &["`line.attr.<name>`", "any", "any other field of the line"]),
    // Location facts.
    e(&LOCATION_FACTS, &["location.id", "id"], &["`location.id`", "text", "the location's id"]),
    e(&LOCATION_FACTS, &["location.kind", "kind"], &["`location.kind`", "`dc` / `store` / `dropship`", "what the location is"]),
    e(&LOCATION_FACTS, &["location.country", "country"], &["`location.country`", "text", "its country"]),
    e(&LOCATION_FACTS, &["location.region", "region"], &["`location.region`", "text", "its region"]),
    e(&LOCATION_FACTS, &["location.tags", "tags"], &["`location.tags`", "list of text", "its tags"]),
    e(&LOCATION_FACTS, &["location.handling_cost", "handling_cost"], &["`location.handling_cost`", "money", "what handling one shipment costs there"]),
    e(&LOCATION_FACTS, &["location.processing_days", "processing_days"], &["`location.processing_days`", "days", "days before a shipment leaves"]),
    e(&LOCATION_FACTS, &["location.daily_capacity", "daily_capacity"], &["`location.daily_capacity`", "number", "shipments a day (absent = unlimited)"]),
    e(&LOCATION_FACTS, &["location.priority", "priority"], &["`location.priority`", "number", "its rank, lower first (absent = last)"]),
    e(&LOCATION_FACTS, &["location.attr.<name>"], &["`location.attr.<name>`", "any", "any other field of the location"]),
    // Terms.
    e(&TERMS, &["distance", "distance_km"], &["`distance` (`distance_km`)", "km", "great-circle distance from the location to the ship-to address (pair)"]),
    e(&TERMS, &["in_market"], &["`in_market`", "bool", "the location is in the ship-to country (pair)"]),
    e(&TERMS, &["meets_promise"], &["`meets_promise`", "bool", "some service arrives within the promise; true without a promise (pair)"]),
    e(&TERMS, &["capacity_left"], &["`capacity_left`", "number", "shipments the location can still send today (pair)"]),
    e(&TERMS, &["capacity_utilisation", "capacity_utilization"], &["`capacity_utilisation` (`capacity_utilization`)", "%", "share of today's capacity already used (pair)"]),
    e(&TERMS, &["days"], &["`days`", "days", "processing plus transit days of the shipment"]),
    e(&TERMS, &["cost"], &["`cost`", "money", "the shipment's cost by the contract's formula"]),
    e(&TERMS, &["atp"], &["`atp`", "number", "available to promise here: in an `exclude`, of the line's SKU; in a score or rank key, read once per location (see [keys read per location](#keys-read-per-location))"]),
    e(&TERMS, &["stock_cover"], &["`stock_cover`", "number", "`atp / qty`: in an `exclude`, of the line; in a score or rank key, read once per location like `atp`"]),
    e(&TERMS, &["shipments"], &["`shipments`", "number", "shipments in the plan (`rank by` only)"]),
    // Types and units.
    e(&TYPES, &["number"], &["`number`", "none", "a plain number"]),
    e(&TYPES, &["bool"], &["`bool`", "—", "a condition"]),
    e(&TYPES, &["string"], &["`string`", "—", "text (script parameters only)"]),
    e(&TYPES, &["money"], &["`money`", "`EUR`, `USD`, … (three capitals)", "an amount in the file's one currency"]),
    e(&TYPES, &["km"], &["`km`", "`km`", "a distance"]),
    e(&TYPES, &["days", "day"], &["`days`", "`days` (`day`)", "a duration"]),
    e(&TYPES, &["kg"], &["`kg`", "`kg`", "a weight"]),
    e(&TYPES, &["percent", "%"], &["`percent`", "`%`", "a share: `15 %` is `0.15`"]),
];

/// The rows documenting `key`, in table order.
pub fn lookup(key: &str) -> impl Iterator<Item = &'static Entry> + '_ {
    ENTRIES.iter().filter(move |e| e.keys.contains(&key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema;

    fn documented(word: &str) -> bool {
        ENTRIES
            .iter()
            .any(|e| e.keys.iter().any(|k| k.split(' ').any(|w| w == word)))
    }

    #[test]
    fn every_keyword_fact_and_term_has_a_row() {
        let grammar = include_str!("../grammar.pest");
        let keywords: Vec<&str> = grammar
            .lines()
            .filter_map(|l| l.strip_prefix("kw_"))
            .filter_map(|l| l.split('"').nth(1))
            .collect();
        assert!(keywords.len() > 40, "{keywords:?}");
        for k in keywords.iter().filter(|&&k| k != "test") {
            assert!(documented(k), "keyword `{k}` has no row");
        }
        for (root, table) in [
            ("order", schema::ORDER),
            ("line", schema::LINE),
            ("location", schema::LOCATION),
        ] {
            for f in table {
                let key = format!("{root}.{}", f.name);
                assert!(lookup(&key).next().is_some(), "fact `{key}` has no row");
            }
        }
        for t in schema::TERMS {
            assert!(
                lookup(t.name).next().is_some(),
                "term `{}` has no row",
                t.name
            );
        }
        for w in schema::FUNCTIONS.iter().chain(schema::VALUE_WORDS) {
            assert!(documented(w), "`{w}` has no row");
        }
    }
}
