//! The HTTP face of the service (service.md): routes, bodies, errors, access control,
//! metrics per request and the OpenAPI document, all from the types below.

use crate::auth::{Access, Role, Tokens};
use crate::core::{fingerprint, reservation_json, Answer, ApiError, Core};
use crate::engine_port::{Change, Mode, Movement, ReservationState, RouteOptions};
use crate::ledger::Entry;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use sourcing_engine::MovementKind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use utoipa::{OpenApi, ToSchema};

/// Default `ttl_s` of a reservation.
pub const DEFAULT_TTL_S: u64 = 900;
/// Largest `ttl_s` of a reservation (one day).
pub const MAX_TTL_S: u64 = 86_400;
/// Most entries one `GET /v1/ledger` returns.
pub const MAX_LEDGER_PAGE: usize = 1000;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The engine and its ledger.
    pub core: Arc<Core>,
    /// Access control; `None` runs open.
    pub tokens: Option<Arc<Tokens>>,
    /// True once the stock and rules are loaded.
    pub ready: Arc<AtomicBool>,
}

/// Limits of the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body in bytes.
    pub body_bytes: usize,
    /// Longest a request may take.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 1 << 20,
            timeout: Duration::from_secs(30),
        }
    }
}

/// An error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What was wrong and what was expected.
    pub error: String,
}

/// An order (contract section 3), read by the same loader as `sourcing route`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(value_type = Object, example = json!({"id":"O-1","ship_to":{"lat":50.11,"lon":8.68},"fulfillment":"ship","lines":[{"sku":"SKU-100","qty":2,"unit_weight_kg":0.4}]}))]
pub struct OrderBody(pub serde_json::Value);

/// A decision (contract section 5) with `ruleset`, the hash of the rules that made it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object, example = json!({"order":"O-1","status":"sourced","rule":"min-cost","shipments":[],"unsourced":[],"total_cost":5.6,"ruleset":"9f2c…"}))]
pub struct DecisionBody(pub serde_json::Value);

/// `POST /v1/reservations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationRequest {
    /// The order.
    #[schema(value_type = Object)]
    pub order: Box<serde_json::value::RawValue>,
    /// Seconds the units are held (default 900, at most 86,400). A whole number, also
    /// when written with a fraction of zero (`600.0`), as JSON Schema's integers are.
    #[schema(value_type = Option<u64>, minimum = 1, maximum = 86400)]
    pub ttl_s: Option<serde_json::Number>,
}

/// A reservation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationBody {
    /// Its id.
    pub id: String,
    /// The order it holds units for.
    pub order: String,
    /// `held`, `confirmed`, `released` or `expired`.
    pub state: String,
    /// Unix seconds when a held reservation expires.
    pub expires_at: i64,
    /// Its decision.
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
}

/// `POST /v1/stock/movements`: `delta`, or `set` with an optional `expected`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MovementRequest {
    /// Location id.
    pub location: String,
    /// SKU.
    pub sku: String,
    /// `receipt`, `adjustment`, `return`, `transfer` or `count`.
    #[schema(pattern = "^(receipt|adjustment|return|transfer|count)$")]
    pub kind: String,
    /// Units to add (negative: remove).
    pub delta: Option<i64>,
    /// The on hand counted.
    pub set: Option<u64>,
    /// The on hand the caller saw; a different current value is 409.
    pub expected: Option<u64>,
    /// A delivery note, a count sheet.
    pub reference: Option<String>,
}

/// The answer to a movement.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovementAnswer {
    /// The ledger entry's sequence number.
    pub seq: u64,
    /// On hand after it.
    pub on_hand: u64,
    /// Reserved.
    pub reserved: u64,
    /// ATP after it.
    pub atp: u64,
}

/// One location's stock of a SKU.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocationAvailability {
    /// Location id.
    pub location: String,
    /// Available to promise.
    pub atp: u64,
    /// On hand.
    pub on_hand: u64,
    /// Reserved.
    pub reserved: u64,
}

/// One SKU's stock.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkuAvailability {
    /// SKU.
    pub sku: String,
    /// ATP over the locations listed.
    pub atp: u64,
    /// Every location listing it (or those asked for), in network order.
    pub locations: Vec<LocationAvailability>,
}

/// `GET /v1/availability`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityAnswer {
    /// One per SKU asked for, in the order asked.
    pub skus: Vec<SkuAvailability>,
}

/// `GET /v1/ledger`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerPage {
    /// Entries in order.
    pub entries: Vec<Entry>,
    /// The `after` of the next page.
    pub next: u64,
}

/// `GET /v1/rules`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesAnswer {
    /// Hex SHA-256 of the rules' text.
    pub ruleset: String,
    /// The rule file's name.
    pub name: String,
    /// Its text (empty for the built-in strategy).
    pub source: String,
}

/// `PUT /v1/rules` accepted.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesSwapped {
    /// Hex SHA-256 of the new rules.
    pub ruleset: String,
    /// Warnings, rendered as `sourcing check` shows them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<String>,
}

/// `PUT /v1/rules` refused.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesRefusedBody {
    /// The `sourcing check --error-format json` objects.
    #[schema(value_type = Vec<Object>)]
    pub diagnostics: serde_json::Value,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "sourcing serve",
        description = "The sourcing engine as a service: decisions, reservations and stock movements, every change in a durable ledger."
    ),
    paths(
        quote,
        route,
        reserve,
        get_reservation,
        confirm,
        release,
        movement,
        availability,
        ledger,
        get_rules,
        put_rules,
        healthz,
        readyz,
        metrics,
        openapi
    ),
    components(schemas(
        ErrorBody,
        OrderBody,
        DecisionBody,
        ReservationRequest,
        ReservationBody,
        MovementRequest,
        MovementAnswer,
        AvailabilityAnswer,
        SkuAvailability,
        LocationAvailability,
        LedgerPage,
        Entry,
        RulesAnswer,
        RulesSwapped,
        RulesRefusedBody
    ))
)]
struct ApiDoc;

/// The OpenAPI 3 document.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_string())
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, self.body.to_string())
    }
}

fn json_response(status: u16, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn answer(result: Result<Answer, ApiError>) -> Response {
    match result {
        Ok(a) => json_response(a.status, a.body),
        Err(e) => e.into_response(),
    }
}

fn body_of(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        let status = e.status().as_u16();
        ApiError::new(
            if status == 413 { 413 } else { 400 },
            format!("cannot read the request body: {}", e.body_text()),
        )
    })
}

/// Reads JSON text: 400 when it is not JSON or not an object.
fn json_object(body: &[u8], what: &str) -> Result<serde_json::Value, ApiError> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(400, format!("{what}: expected a JSON object: {e}")))?;
    if !v.is_object() {
        return Err(ApiError::new(
            400,
            format!("{what}: expected a JSON object, found {}", kind_of(&v)),
        ));
    }
    Ok(v)
}

/// Checks that JSON text is an object, with the same refusals as [`json_object`], without
/// building it (the body is read again by whoever needs its fields).
fn is_json_object(body: &[u8], what: &str) -> Result<(), ApiError> {
    let raw: &serde_json::value::RawValue = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(400, format!("{what}: expected a JSON object: {e}")))?;
    let found = match raw.get().as_bytes().first() {
        Some(b'{') => return Ok(()),
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    };
    Err(ApiError::new(
        400,
        format!("{what}: expected a JSON object, found {found}"),
    ))
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Reads an order with the loader `sourcing route` uses: 422 with its message. The text
/// is the client's own, line ends made spaces (JSON-equivalent), so the column in the
/// message is the offset in what the client sent.
fn order_of(state: &AppState, text: &str) -> Result<sourcing_engine::ValidOrder, ApiError> {
    let text: std::borrow::Cow<'_, str> = if text.contains(['\n', '\r']) {
        text.replace(['\n', '\r'], " ").into()
    } else {
        text.into()
    };
    state
        .core
        .port
        .parse_order("order", &text)
        .map_err(|e| ApiError::new(422, e))
}

/// The request's idempotency key: the header's, else `default`.
fn key_of(headers: &HeaderMap, default: Option<&str>) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key") {
        Some(v) => {
            let k = v
                .to_str()
                .map_err(|_| ApiError::new(400, "Idempotency-Key: expected visible ASCII text"))?;
            if k.is_empty() || k.len() > 255 {
                return Err(ApiError::new(
                    400,
                    "Idempotency-Key: expected 1 to 255 characters",
                ));
            }
            Ok(Some(k.to_string()))
        }
        None => Ok(default.map(str::to_string)),
    }
}

fn wants_explain(query: Option<&str>) -> Result<bool, ApiError> {
    let mut explain = false;
    for (k, v) in query_pairs(query.unwrap_or("")) {
        match (k.as_str(), v.as_str()) {
            ("explain", "true" | "1" | "") => explain = true,
            ("explain", "false" | "0") => explain = false,
            ("explain", other) => {
                return Err(ApiError::new(
                    400,
                    format!("explain: expected `true` or `false`, found `{other}`"),
                ))
            }
            _ => {}
        }
    }
    Ok(explain)
}

/// Quote an order: its decision, nothing changes.
#[utoipa::path(post, path = "/v1/quote", request_body = OrderBody,
    params(("explain" = Option<bool>, Query, description = "add the explanation")),
    responses((status = 200, body = DecisionBody), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn quote(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let run = || -> Result<Answer, ApiError> {
        let body = body_of(body)?;
        let explain = wants_explain(query.as_deref())?;
        is_json_object(&body, "order")?;
        let order = order_of(&state, &String::from_utf8_lossy(&body))?;
        let out = state.core.port.route(
            &order,
            &RouteOptions {
                mode: Mode::Quote,
                explain,
            },
        );
        state.core.metrics.decision("quote", out.status, &out.rule);
        Ok(Answer {
            status: 200,
            body: out.decision.get().to_string(),
        })
    };
    answer(run())
}

/// Route an order: its units leave stock for good.
#[utoipa::path(post, path = "/v1/route", request_body = OrderBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "default: the order id")),
    responses((status = 200, body = DecisionBody), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn route(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let prepared = (|| {
        let body = body_of(body)?;
        is_json_object(&body, "order")?;
        let order = order_of(&state, &String::from_utf8_lossy(&body))?;
        let key = key_of(&headers, Some(&order.id))?.unwrap_or_default();
        let fp = fingerprint("POST", "/v1/route", &body);
        Ok::<_, ApiError>((order, (key, fp)))
    })();
    match prepared {
        Ok((order, key)) => answer(state.core.route(order, key).await),
        Err(e) => e.into_response(),
    }
}

/// Reserve an order's units until confirmed, released or expired.
#[utoipa::path(post, path = "/v1/reservations", request_body = ReservationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "default: the order id")),
    responses((status = 201, body = ReservationBody), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reserve(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let prepared = (|| {
        let body = body_of(body)?;
        is_json_object(&body, "reservation")?;
        let request: ReservationRequest = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                400,
                format!("reservation: expected {{\"order\": {{…}}, \"ttl_s\": seconds}}: {e}"),
            )
        })?;
        is_json_object(request.order.get().as_bytes(), "order")?;
        let ttl = match &request.ttl_s {
            None => Some(DEFAULT_TTL_S),
            Some(n) => n.as_u64().or_else(|| {
                // 600.0 is the whole number 600; 600.5 and -1 are no number of seconds.
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= MAX_TTL_S as f64)
                    .map(|f| f as u64)
            }),
        };
        let ttl = match ttl {
            Some(t) if (1..=MAX_TTL_S).contains(&t) => t,
            _ => {
                let found = request
                    .ttl_s
                    .as_ref()
                    .map_or_else(String::new, ToString::to_string);
                return Err(ApiError::new(
                    422,
                    format!(
                        "ttl_s: must be a whole number of seconds from 1 to {MAX_TTL_S}, found {found}"
                    ),
                ));
            }
        };
        let order = order_of(&state, request.order.get())?;
        let key = key_of(&headers, Some(&order.id))?.unwrap_or_default();
        let fp = fingerprint("POST", "/v1/reservations", &body);
        Ok::<_, ApiError>((order, ttl, (key, fp)))
    })();
    match prepared {
        Ok((order, ttl, key)) => answer(state.core.reserve(order, ttl, key).await),
        Err(e) => e.into_response(),
    }
}

/// A reservation.
#[utoipa::path(get, path = "/v1/reservations/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ReservationBody), (status = 404, body = ErrorBody)))]
async fn get_reservation(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.core.port.reservation(&id) {
        Some(r) => json_response(200, reservation_json(&r)),
        None => match state.core.ledger.reservation(&id) {
            // Settled before the last start: the ledger still knows it.
            Ok(Some(r)) => json_response(200, reservation_json(&r)),
            Ok(None) => {
                ApiError::new(404, format!("no reservation has the id `{id}`")).into_response()
            }
            Err(e) => ApiError::new(503, e.to_string()).into_response(),
        },
    }
}

async fn settle(state: AppState, id: String, headers: HeaderMap, to: ReservationState) -> Response {
    let action = if to == ReservationState::Confirmed {
        "confirm"
    } else {
        "release"
    };
    let key = match key_of(&headers, None) {
        Ok(k) => k.map(|k| {
            let fp = fingerprint("POST", &format!("/v1/reservations/{id}/{action}"), b"");
            (k, fp)
        }),
        Err(e) => return e.into_response(),
    };
    if !state.core.knows_reservation(&id) {
        return match state.core.ledger.reservation(&id) {
            Ok(Some(r)) if r.state == to => json_response(200, reservation_json(&r)),
            Ok(Some(r)) => ApiError::new(
                409,
                format!(
                    "reservation `{id}` is {}; only a held reservation can be {action}d",
                    r.state
                ),
            )
            .into_response(),
            _ => ApiError::new(404, format!("no reservation has the id `{id}`")).into_response(),
        };
    }
    answer(state.core.settle(&id, to, key).await)
}

/// Confirm a reservation: its units leave stock for good.
#[utoipa::path(post, path = "/v1/reservations/{id}/confirm", params(("id" = String, Path)),
    responses((status = 200, body = ReservationBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn confirm(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    settle(state, id, headers, ReservationState::Confirmed).await
}

/// Release a reservation: its units are available again.
#[utoipa::path(post, path = "/v1/reservations/{id}/release", params(("id" = String, Path)),
    responses((status = 200, body = ReservationBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn release(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    settle(state, id, headers, ReservationState::Released).await
}

fn movement_kind(word: &str) -> Option<MovementKind> {
    match word {
        "receipt" => Some(MovementKind::Receipt),
        "adjustment" => Some(MovementKind::Adjustment),
        "return" => Some(MovementKind::Return),
        "transfer" => Some(MovementKind::Transfer),
        "count" => Some(MovementKind::Count),
        _ => None,
    }
}

/// Move stock: a receipt, an adjustment, a return, a transfer or a count.
#[utoipa::path(post, path = "/v1/stock/movements", request_body = MovementRequest,
    responses((status = 200, body = MovementAnswer), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn movement(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let prepared = (|| {
        let body = body_of(body)?;
        let value = json_object(&body, "movement")?;
        let m: MovementRequest = serde_json::from_value(value).map_err(|e| {
            ApiError::new(
                400,
                format!("movement: expected {{\"location\", \"sku\", \"kind\", \"delta\": N}} or {{…, \"set\": N, \"expected\": M}}: {e}"),
            )
        })?;
        let Some(kind) = movement_kind(&m.kind) else {
            return Err(ApiError::new(
                400,
                format!(
                    "kind: expected one of `receipt`, `adjustment`, `return`, `transfer`, `count`, found `{}`",
                    m.kind.escape_debug()
                ),
            ));
        };
        let change = match (m.delta, m.set, m.expected) {
            (Some(d), None, None) => Change::Delta(d),
            (None, Some(value), expected) => Change::Set { value, expected },
            (Some(_), None, Some(_)) => {
                return Err(ApiError::new(
                    400,
                    "expected: goes with `set`, not with `delta`",
                ))
            }
            (Some(_), Some(_), _) => {
                return Err(ApiError::new(
                    400,
                    "movement: give `delta` or `set`, not both",
                ))
            }
            (None, None, _) => {
                return Err(ApiError::new(400, "movement: expected `delta` or `set`"))
            }
        };
        let key =
            key_of(&headers, None)?.map(|k| (k, fingerprint("POST", "/v1/stock/movements", &body)));
        let movement = Movement {
            location: m.location,
            sku: m.sku,
            kind,
            change,
        };
        Ok::<_, ApiError>((movement, m.kind, m.reference, key))
    })();
    match prepared {
        Ok((movement, kind, reference, key)) => {
            answer(state.core.movement(movement, kind, reference, key).await)
        }
        Err(e) => e.into_response(),
    }
}

/// `a=b&c=d` pairs, percent-decoded (`+` is a space).
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match text
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Available to promise per SKU and location.
#[utoipa::path(get, path = "/v1/availability",
    params(("sku" = Vec<String>, Query, description = "one or more SKUs"), ("location" = Option<Vec<String>>, Query, description = "only these locations")),
    responses((status = 200, body = AvailabilityAnswer), (status = 400, body = ErrorBody)))]
async fn availability(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let mut skus = Vec::new();
    let mut locations = Vec::new();
    for (k, v) in query_pairs(query.as_deref().unwrap_or("")) {
        match k.as_str() {
            "sku" => skus.push(v),
            "location" => locations.push(v),
            other => {
                return ApiError::new(
                    400,
                    format!(
                        "query: unknown parameter `{}`; expected `sku` or `location`",
                        other.escape_debug()
                    ),
                )
                .into_response()
            }
        }
    }
    if skus.is_empty() {
        return ApiError::new(400, "sku: expected at least one `sku=` parameter").into_response();
    }
    if skus.len() > 1000 {
        return ApiError::new(400, "sku: at most 1000 SKUs per request").into_response();
    }
    let answer = AvailabilityAnswer {
        skus: skus
            .into_iter()
            .map(|sku| {
                let locations: Vec<LocationAvailability> = state
                    .core
                    .port
                    .availability(&sku)
                    .into_iter()
                    .filter(|(l, _)| locations.is_empty() || locations.contains(l))
                    .map(|(location, f)| LocationAvailability {
                        location,
                        atp: f.atp,
                        on_hand: f.on_hand,
                        reserved: f.reserved,
                    })
                    .collect();
                SkuAvailability {
                    atp: locations.iter().map(|l| l.atp).fold(0, u64::saturating_add),
                    sku,
                    locations,
                }
            })
            .collect(),
    };
    json_response(200, serde_json::to_string(&answer).unwrap_or_default())
}

/// Every stock change in order: the audit trail.
#[utoipa::path(get, path = "/v1/ledger",
    params(("after" = Option<u64>, Query, description = "entries after this seq (default 0)"), ("limit" = Option<usize>, Query, minimum = 1, maximum = 1000, description = "at most this many (default 100, at most 1000)")),
    responses((status = 200, body = LedgerPage), (status = 400, body = ErrorBody)))]
async fn ledger(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let mut after = 0u64;
    let mut limit = 100usize;
    for (k, v) in query_pairs(query.as_deref().unwrap_or("")) {
        let bad = |what: &str| {
            ApiError::new(
                400,
                format!("{k}: expected {what}, found `{}`", v.escape_debug()),
            )
            .into_response()
        };
        match k.as_str() {
            // Sequence numbers are 64-bit signed in the ledger and the document.
            "after" => match v.parse::<u64>() {
                Ok(a) if i64::try_from(a).is_ok() => after = a,
                _ => return bad("a whole number from 0 to 9223372036854775807"),
            },
            "limit" => match v.parse::<usize>() {
                Ok(l) if (1..=MAX_LEDGER_PAGE).contains(&l) => limit = l,
                _ => return bad("a whole number from 1 to 1000"),
            },
            _ => return bad("no such parameter (`after`, `limit`)"),
        }
    }
    let state_core = Arc::clone(&state.core);
    let read = tokio::task::spawn_blocking(move || state_core.ledger.entries(after, limit)).await;
    match read {
        Ok(Ok(entries)) => {
            let next = entries.last().map_or(after, |e| e.seq);
            let page = LedgerPage { entries, next };
            json_response(200, serde_json::to_string(&page).unwrap_or_default())
        }
        Ok(Err(e)) => ApiError::new(503, e.to_string()).into_response(),
        Err(e) => ApiError::new(503, e.to_string()).into_response(),
    }
}

/// The rules in force.
#[utoipa::path(get, path = "/v1/rules", responses((status = 200, body = RulesAnswer)))]
async fn get_rules(State(state): State<AppState>) -> Response {
    let info = state.core.port.ruleset();
    let body = RulesAnswer {
        ruleset: info.hash,
        name: info.name,
        source: info.source,
    };
    json_response(200, serde_json::to_string(&body).unwrap_or_default())
}

/// Replace the rules: checked, then swapped at once; refused rules leave the rules in force.
#[utoipa::path(put, path = "/v1/rules", request_body(content = String, content_type = "text/plain"),
    params(("name" = Option<String>, Query, description = "the file name diagnostics show (default `rules.rules`)")),
    responses((status = 200, body = RulesSwapped), (status = 422, body = RulesRefusedBody)))]
async fn put_rules(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body_of(body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let name = query_pairs(query.as_deref().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "name")
        .map_or_else(|| "rules.rules".to_string(), |(_, v)| v);
    let core = Arc::clone(&state.core);
    // Checking and compiling may take a while: off the request threads.
    let loaded = tokio::task::spawn_blocking(move || core.port.load_rules(&name, &body)).await;
    match loaded {
        Ok(Ok(loaded)) => {
            tracing::info!(ruleset = %loaded.ruleset, "rules replaced");
            let body = RulesSwapped {
                ruleset: loaded.ruleset,
                warnings: (!loaded.warnings.is_empty()).then_some(loaded.warnings),
            };
            json_response(200, serde_json::to_string(&body).unwrap_or_default())
        }
        Ok(Err(refused)) => {
            let body = serde_json::json!({ "diagnostics": refused.diagnostics, "error": refused.rendered });
            json_response(422, body.to_string())
        }
        Err(e) => ApiError::new(503, e.to_string()).into_response(),
    }
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "alive")))]
async fn healthz() -> Response {
    json_response(200, "{\"status\":\"ok\"}".to_string())
}

/// Readiness: the stock and rules are loaded.
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "ready"), (status = 503, body = ErrorBody)))]
async fn readyz(State(state): State<AppState>) -> Response {
    if state.ready.load(Ordering::Acquire) && state.core.healthy() {
        json_response(200, "{\"status\":\"ready\"}".to_string())
    } else {
        ApiError::new(503, "loading").into_response()
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text", content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> Response {
    let mut r = Response::new(Body::from(state.core.metrics.render()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "the OpenAPI 3 document")))]
async fn openapi() -> Response {
    json_response(200, openapi_json())
}

/// The role a request needs; `None` for liveness and readiness.
fn role_needed(method: &Method, path: &str) -> Option<Role> {
    match (method, path) {
        (_, "/healthz" | "/readyz") => None,
        (&Method::PUT, "/v1/rules") => Some(Role::Admin),
        (&Method::POST, "/v1/quote") => Some(Role::Read),
        (&Method::POST, _) | (&Method::PUT, _) | (&Method::DELETE, _) => Some(Role::Write),
        _ => Some(Role::Read),
    }
}

async fn access(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(tokens) = &state.tokens else {
        return next.run(request).await;
    };
    let Some(needed) = role_needed(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let access = token.map_or(Access::Unknown, |t| tokens.check(t));
    match access {
        Access::Unknown => {
            let mut r = ApiError::new(
                401,
                "a known token is needed: `Authorization: Bearer TOKEN`",
            )
            .into_response();
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            r
        }
        Access::Known(role) if role < needed => ApiError::new(
            403,
            format!(
                "this token's role is `{}`; `{}` is needed",
                role.as_str(),
                needed.as_str()
            ),
        )
        .into_response(),
        Access::Known(_) => next.run(request).await,
    }
}

async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16().to_string();
    let m = &state.core.metrics;
    m.requests
        .with_label_values(&[endpoint.as_str(), method.as_str(), status.as_str()])
        .inc();
    m.latency
        .with_label_values(&[endpoint.as_str()])
        .observe(elapsed.as_secs_f64());
    tracing::debug!(%method, %endpoint, %status, micros = elapsed.as_micros() as u64, "request");
    response
}

async fn not_found() -> Response {
    ApiError::new(404, "no such endpoint; see /openapi.json").into_response()
}

/// The service's routes with their layers.
pub fn app(state: AppState, limits: Limits) -> Router {
    Router::new()
        .route("/v1/quote", post(quote))
        .route("/v1/route", post(route))
        .route("/v1/reservations", post(reserve))
        .route("/v1/reservations/{id}", get(get_reservation))
        .route("/v1/reservations/{id}/confirm", post(confirm))
        .route("/v1/reservations/{id}/release", post(release))
        .route("/v1/stock/movements", post(movement))
        .route("/v1/availability", get(availability))
        .route("/v1/ledger", get(ledger))
        .route("/v1/rules", get(get_rules).put(put_rules))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), access))
        .route_layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.timeout,
        ))
        .with_state(state)
}
