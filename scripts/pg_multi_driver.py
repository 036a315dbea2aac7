#!/usr/bin/env python3
"""Concurrent clients against several `sourcing serve` instances sharing one ledger.

Each client thread talks to the instances in turn (a request and its retry usually reach
different instances) on a few hot SKUs: routes, reservations confirmed or released
elsewhere, short reservations left to expire, receipts and counts. Every acknowledged
change is written to a JSON file for the checks (`check` mode) after the run. Requests
whose answer was lost (an instance killed) are retried with the same idempotency key on
another instance until one answers. Bounded in requests and in time; loopback only.

usage: pg_multi_driver.py drive OUT.json SECONDS CLIENTS PORT [PORT...]
       pg_multi_driver.py check OUT.json EXPORT.jsonl PORT [PORT...]
"""

import http.client
import json
import random
import sys
import threading
import time

HOT = [
    ("TSHIRT-M", 0.25),
    ("JEANS-32", 0.6),
    ("SNEAKER-42", 1.1),
]
PAIRS = [
    ("DC-KASSEL", "TSHIRT-M"), ("DC-KASSEL", "JEANS-32"), ("DC-LEIPZIG", "TSHIRT-M"),
    ("DC-LEIPZIG", "SNEAKER-42"), ("ST-HAMBURG", "TSHIRT-M"), ("ST-HAMBURG", "SNEAKER-42"),
    ("ST-MUNICH", "JEANS-32"), ("ST-MUNICH", "SNEAKER-42"), ("ST-BERLIN", "JEANS-32"),
]
MAX_REQUESTS_PER_CLIENT = 4000


class Conn:
    """One kept-alive connection per instance; reconnects after an error."""

    def __init__(self, port):
        self.port = port
        self.c = None

    def call(self, method, path, body=None, headers=None):
        for _ in range(2):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
                data = None if body is None else json.dumps(body).encode()
                h = {"Content-Type": "application/json"}
                h.update(headers or {})
                t0 = time.perf_counter()
                self.c.request(method, path, body=data, headers=h)
                r = self.c.getresponse()
                text = r.read().decode()
                return r.status, text, time.perf_counter() - t0
            except (OSError, http.client.HTTPException):
                if self.c is not None:
                    self.c.close()
                self.c = None
        return None, None, None


def order(oid, rng):
    lines = []
    for sku, w in rng.sample(HOT, rng.choice([1, 1, 2])):
        lines.append({"sku": sku, "qty": rng.randint(1, 3), "unit_weight_kg": w})
    return {
        "id": oid,
        "placed_at": "2026-11-23T09:00:00Z",
        "ship_to": {"lat": 50.11 + rng.random(), "lon": 8.68 + rng.random() * 4,
                    "country": "DE"},
        "fulfillment": "ship",
        "lines": lines,
    }


class Client(threading.Thread):
    def __init__(self, n, ports, deadline, record, lock):
        super().__init__(daemon=True)
        self.n = n
        self.conns = [Conn(p) for p in ports]
        self.turn = n
        self.deadline = deadline
        self.record = record
        self.lock = lock
        self.rng = random.Random(1000 + n)
        self.held = []
        self.latencies = []
        self.errors = []

    def conn(self):
        self.turn += 1
        return self.conns[self.turn % len(self.conns)]

    def send(self, method, path, body=None, key=None):
        """Sends until some instance answers (a lost answer is retried with the key)."""
        headers = {"Idempotency-Key": key} if key else {}
        tries = 0
        while True:
            status, text, secs = self.conn().call(method, path, body, headers)
            if status is not None:
                if tries == 0:
                    self.latencies.append(secs)
                return status, text, tries
            tries += 1
            if tries > 200 or time.time() > self.deadline + 60:
                return None, None, tries
            time.sleep(0.05)

    def note(self, kind, **fields):
        with self.lock:
            self.record.setdefault(kind, []).append(fields)

    def run(self):
        i = 0
        while time.time() < self.deadline and i < MAX_REQUESTS_PER_CLIENT:
            i += 1
            r = self.rng.random()
            try:
                if r < 0.30:
                    self.route(i)
                elif r < 0.60:
                    self.reserve(i)
                elif r < 0.80 and self.held:
                    self.settle()
                elif r < 0.90:
                    self.receipt(i)
                else:
                    self.count(i)
            except Exception as e:  # noqa: BLE001 - recorded and reported
                self.errors.append(repr(e))

    def check_5xx(self, what, status, text):
        if status is None or status >= 500:
            self.errors.append(f"{what}: {status} {text}")
            return True
        return False

    def route(self, i):
        oid = f"C{self.n}-R{i}"
        o = order(oid, self.rng)
        status, text, tries = self.send("POST", "/v1/route", o, key=oid)
        if self.check_5xx("route", status, text):
            return
        if status == 200:
            self.note("routes", order=oid, decision=json.loads(text), retried=tries > 0)
            if self.rng.random() < 0.1:
                # The same request again, on another instance: the first answer.
                s2, t2, _ = self.send("POST", "/v1/route", o, key=oid)
                if s2 != 200 or json.loads(t2) != json.loads(text):
                    self.errors.append(f"route retry of {oid} answered {s2} {t2}")

    def reserve(self, i):
        oid = f"C{self.n}-V{i}"
        ttl = 2 if self.rng.random() < 0.2 else 600
        body = {"order": order(oid, self.rng), "ttl_s": ttl}
        status, text, tries = self.send("POST", "/v1/reservations", body, key=oid)
        if self.check_5xx("reserve", status, text):
            return
        if status == 201:
            r = json.loads(text)
            self.note("reservations", id=r["id"], order=oid, decision=r["decision"],
                      ttl=ttl)
            if ttl > 2:
                self.held.append(r["id"])

    def settle(self):
        rid = self.held.pop(self.rng.randrange(len(self.held)))
        action = "confirm" if self.rng.random() < 0.6 else "release"
        status, text, _ = self.send("POST", f"/v1/reservations/{rid}/{action}",
                                    key=f"{rid}-{action}")
        if self.check_5xx(action, status, text):
            return
        if status == 200:
            self.note("settled", id=rid, state=json.loads(text)["state"])
        else:
            self.errors.append(f"{action} {rid}: {status} {text}")

    def receipt(self, i):
        loc, sku = self.rng.choice(PAIRS)
        key = f"C{self.n}-M{i}"
        body = {"location": loc, "sku": sku, "kind": "receipt",
                "delta": self.rng.randint(1, 4), "reference": key}
        status, text, _ = self.send("POST", "/v1/stock/movements", body, key=key)
        if self.check_5xx("receipt", status, text):
            return
        if status == 200:
            self.note("movements", key=key, seq=json.loads(text)["seq"], location=loc,
                      sku=sku, delta=body["delta"])

    def count(self, i):
        loc, sku = self.rng.choice(PAIRS)
        status, text, _ = self.send("GET", f"/v1/availability?sku={sku}&location={loc}")
        if status != 200:
            return
        locs = json.loads(text)["skus"][0]["locations"]
        if not locs:
            return
        current = locs[0]["on_hand"]
        key = f"C{self.n}-K{i}"
        body = {"location": loc, "sku": sku, "kind": "count", "set": current + 1,
                "expected": current, "reference": key}
        status, text, _ = self.send("POST", "/v1/stock/movements", body, key=key)
        if self.check_5xx("count", status, text):
            return
        if status == 200:
            self.note("counts", key=key, seq=json.loads(text)["seq"], location=loc,
                      sku=sku, set=current + 1)


def metric(ports, name):
    total = 0.0
    for p in ports:
        status, text, _ = Conn(p).call("GET", "/metrics")
        if status != 200:
            continue
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
    return total


def drive(out, seconds, clients, ports):
    deadline = time.time() + seconds
    record, lock = {}, threading.Lock()
    started = time.time()
    threads = [Client(n, ports, deadline, record, lock) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 180)
    elapsed = time.time() - started
    lat = sorted(x for t in threads for x in t.latencies)
    errors = [e for t in threads for e in t.errors]
    requests = len(lat)
    report = {
        "instances": len(ports),
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": requests,
        "per_second": round(requests / elapsed, 1) if elapsed else 0,
        "p50_ms": round(lat[len(lat) // 2] * 1000, 2) if lat else None,
        "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2) if lat else None,
        "commits": metric(ports, "sourcing_ledger_commit_seconds_count"),
        "conflicts": metric(ports, "sourcing_ledger_conflicts_total"),
        "followed": metric(ports, "sourcing_ledger_followed_entries_total"),
        "errors": len(errors),
    }
    report["conflict_rate"] = (
        round(report["conflicts"] / (report["commits"] or 1), 4))
    record["report"] = report
    record["errors"] = errors[:50]
    with open(out, "w") as f:
        json.dump(record, f)
    print(json.dumps(report))
    if errors:
        print("client errors:", *errors[:20], sep="\n  ", file=sys.stderr)
        return 1
    return 0


def check(out, export, ports):
    """Every acknowledged change exactly once in the ledger; instances agree."""
    record = json.load(open(out))
    entries = [json.loads(line) for line in open(export) if line.strip()]
    problems = []
    by_order = {}
    by_reservation = {}
    by_key = {}
    for e in entries:
        if e.get("order"):
            by_order.setdefault((e["kind"], e["order"]), []).append(e)
        if e.get("reservation"):
            by_reservation.setdefault((e["kind"], e["reservation"]), []).append(e)
        if e.get("reference"):
            by_key.setdefault(e["reference"], []).append(e)
    by_seq = {e["seq"]: e for e in entries}

    def takes(decision):
        out = {}
        for s in decision.get("shipments", []):
            for line in s["lines"]:
                k = (s["location"], line["sku"])
                out[k] = out.get(k, 0) + line["qty"]
        return out

    for r in record.get("routes", []):
        got = {}
        for e in by_order.get(("route", r["order"]), []):
            k = (e["location"], e["sku"])
            got[k] = got.get(k, 0) - e["on_hand_delta"]
        if got != takes(r["decision"]):
            problems.append(f"route {r['order']}: ledger {got} != decision")
    states = {}
    for r in record.get("reservations", []):
        got = {}
        for e in by_reservation.get(("reserve", r["id"]), []):
            k = (e["location"], e["sku"])
            got[k] = got.get(k, 0) + e["reserved_delta"]
        if got != takes(r["decision"]):
            problems.append(f"reservation {r['id']}: ledger {got} != decision")
        ends = [k for k in ("confirm", "release", "expiry")
                if by_reservation.get((k, r["id"]))]
        if len(ends) > 1:
            problems.append(f"reservation {r['id']} ended twice: {ends}")
        states[r["id"]] = ends
    for s in record.get("settled", []):
        want = {"confirmed": "confirm", "released": "release", "expired": "expiry"}[s["state"]]
        ends = states.get(s["id"], [])
        if takes_any(by_reservation, s["id"]) and ends != [want]:
            problems.append(f"reservation {s['id']} answered {s['state']}, ledger {ends}")
    for m in record.get("movements", []) + record.get("counts", []):
        found = by_key.get(m["key"], [])
        if len(found) != 1:
            problems.append(f"movement {m['key']}: {len(found)} entries")
        elif m["seq"] not in by_seq or by_seq[m["seq"]].get("reference") != m["key"]:
            problems.append(f"movement {m['key']}: answered seq {m['seq']}, entry "
                            f"{found[0]['seq']}")
    # Every instance's memory converges on the same stock (expiries may still be landing:
    # asked again for up to 20 s until they agree).
    skus = "&".join(f"sku={s}" for s, _ in HOT)
    for _ in range(40):
        views = []
        for p in ports:
            status, text, _ = Conn(p).call("GET", f"/v1/availability?{skus}")
            views.append((p, json.loads(text) if status == 200 else None))
        differ = [p for p, v in views[1:] if v != views[0][1]]
        if not differ:
            break
        time.sleep(0.5)
    for p in differ:
        problems.append(f"instance on port {p} sees other stock than port {views[0][0]}")
    summary = {k: len(record.get(k, [])) for k in
               ("routes", "reservations", "settled", "movements", "counts")}
    summary["entries"] = len(entries)
    print(json.dumps(summary))
    for line in problems[:50]:
        print("PROBLEM:", line, file=sys.stderr)
    return 1 if problems else 0


def takes_any(by_reservation, rid):
    return bool(by_reservation.get(("reserve", rid)))


if __name__ == "__main__":
    if len(sys.argv) >= 6 and sys.argv[1] == "drive":
        sys.exit(drive(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]),
                       [int(p) for p in sys.argv[5:]]))
    if len(sys.argv) >= 5 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], [int(p) for p in sys.argv[4:]]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
