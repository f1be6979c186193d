#!/usr/bin/python3
"""make bench-impls: every registered implementation's `bench` op against raw sendto().

    harness/bench/impls.py --rawsend build/release/bin/apmsock-rawsend [--reps 15]
                           [--ops 10000] [--raw-ops 20000] [--impl ID ...] [--reports reports]

For each implementation of fixtures/implementations.yaml (or --impl) whose adapter
advertises `bench` (PROTOCOL.md): one adapter process for the whole run; each
repetition runs the implementations' bench ops with a raw sendto() loop
(apmsock-rawsend) before the first and after each, the implementations' order rotating
from one repetition to the next. A workload's ratio in a repetition is its rate over the
geometric mean of the raw rates measured just before and just after it; the figures are medians over the repetitions (of those ratios, of the
rates, of the percentiles). This process receives every datagram (benchreply.Receiver),
so delivered/sent is measured per workload; when its buffer can hold a whole run (root:
SO_RCVBUFFORCE) it drains after each run, taking no CPU from the sender being timed.

An implementation whose runtime or adapter is missing (no dotnet, no mcs) is skipped
with a one-line note. Writes REPORTS/bench-impls.json and REPORTS/performance.html; when
REPORTS/index.html exists it is rebuilt (apm-report build) so that it links the page.
Progress: one line per repetition and implementation. Exit 0; 3 when no implementation
could be measured or one broke; 4 on usage errors.
"""
import argparse
import datetime
import json
import math
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.dirname(HERE)
ROOT = os.path.dirname(HARNESS)
sys.path.insert(0, HARNESS)
sys.path.insert(0, os.path.join(HARNESS, "report"))

from apmsock_harness import registry  # noqa: E402
from apmsock_harness.adapter import Adapter, AdapterFailure, ProtocolMismatch, Unsupported  # noqa: E402
from apmsock_harness.benchreply import Receiver, WORKLOADS, TAG_UNTIMED, problems  # noqa: E402

TAG_RAW = 4          # rawsend.c's first byte
DEFAULT_IMPLS = ("reference", "mono", "dotnet")
BENCH_TIMEOUT = 300  # one bench op, seconds: bounds a hung adapter


def log(msg):
    print("bench-impls: " + msg, flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def kilo(rate):
    return "%.1fk/s" % (rate / 1000.0)


class Raw:
    """apmsock-rawsend kept running (serving mode), as the adapters are: one line in, one run."""

    def __init__(self, prog, receiver, size, ops):
        self.rcv, self.ops = receiver, ops
        ep = receiver.endpoint
        self.proc = subprocess.Popen([prog, ep["address"], str(ep["port"]), str(size)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)

    def run(self):
        self.proc.stdin.write("%d\n" % self.ops)
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()   # bounded: the loop ends, or sendto fails and it exits
        if not line:
            raise RuntimeError("apmsock-rawsend exited %s" % self.proc.wait(5))
        r = json.loads(line)
        got = self.rcv.take(r["sent"])
        return r["rate"], got.get(TAG_RAW, 0) / r["sent"]

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start(impl_id):
    """(Adapter, None) or (None, why it is skipped)."""
    why = registry.missing_requirement(ROOT, impl_id)
    if why:
        return None, why
    try:
        impl = registry.resolve(ROOT, impl_id)
    except registry.RegistryError as e:
        return None, str(e)
    missing = registry.program_missing(impl)
    if missing:
        return None, missing
    a = Adapter(impl.argv, cwd=impl.cwd, timeout=60.0, name=impl_id)
    try:
        a.start()
    except (AdapterFailure, ProtocolMismatch) as e:
        a.stop()
        return None, "its adapter did not start: %s" % e
    if "bench" not in a.capabilities:
        a.stop()
        return None, "its adapter does not advertise the bench capability"
    return a, None


def bench_once(a, rcv, args):
    r = a.call("bench", dict(args, endpoint=rcv.endpoint), timeout=BENCH_TIMEOUT)
    if not r.ok:
        raise RuntimeError("bench threw: %s" % json.dumps(r.raw.get("error")))
    res = r.result
    bad = problems(res, args["ops"], args["first_uses"])
    if bad:
        raise RuntimeError("malformed bench reply: " + "; ".join(bad[:3]))
    got = rcv.take(res["untimed_sent"] + len(WORKLOADS) * args["ops"])
    delivered = {name: got.get(tag, 0) / args["ops"] for name, tag in WORKLOADS.items()}
    delivered["untimed"] = got.get(TAG_UNTIMED, 0) / max(1, res["untimed_sent"])
    return res, delivered


def summarise(impl_id, hello, samples):
    """samples: [(raw rate, result, delivered)], one per repetition."""
    out = {"id": impl_id, "implementation": hello.get("implementation"), "version": hello.get("version"),
           "runtime": hello.get("runtime"), "repetitions": len(samples),
           "alloc": samples[-1][1]["alloc"] if samples else None, "workloads": {}}
    for name in WORKLOADS:
        ws = [(raw, res["workloads"][name], dl[name]) for raw, res, dl in samples]
        w = {"what": ws[-1][1]["what"] if ws else None,
             "rate_median": median([x["rate"] for _, x, _ in ws]),
             "ratios": [x["rate"] / raw for raw, x, _ in ws],
             "delivered_ratio": median([d for _, _, d in ws]),
             "alloc_per_op_median": median([x["alloc_per_op"] for _, x, _ in ws])}
        w["ratio_median"] = median(w["ratios"])
        if name == "documented":
            lat = {}
            for phase in ("first", "steady"):
                lat[phase] = {q: median([x["latency_us"][phase][q] for _, x, _ in ws]) for q in ("p50", "p99")}
            w["latency_us"] = lat
            w["callbacks_inline_fraction"] = median([x["callbacks_inline"] / x["sent"] for _, x, _ in ws])
        out["workloads"][name] = w
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rawsend", required=True, help="the raw sendto() program (make rawsend)")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--ops", type=int, default=10000, help="timed operations per workload and repetition")
    ap.add_argument("--raw-ops", type=int, default=20000, help="datagrams per raw sendto() run")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--first-uses", type=int, default=16)
    ap.add_argument("--impl", action="append", help="an implementation id (repeatable); default: %s"
                    % " ".join(DEFAULT_IMPLS))
    ap.add_argument("--reports", default="reports")
    a = ap.parse_args(argv)
    if a.reps < 1 or a.ops < 1 or a.raw_ops < 1 or not 1 <= a.size <= 65507:
        ap.error("--reps, --ops, --raw-ops must be 1 or more; --size 1..65507")
    if not os.access(a.rawsend, os.X_OK):
        log("usage error: %s is not built (make rawsend)" % a.rawsend)
        return 4

    rcv = Receiver(rcvbuf=max(64 << 20, 3 * max(a.raw_ops, 2 * a.ops + 1000) * Receiver.TRUESIZE),
                   defer_for=max(a.raw_ops, 2 * a.ops + 2 * 100 + a.first_uses))
    log("receiver on 127.0.0.1:%d, %s" % (rcv.endpoint["port"], "draining after each run (its buffer holds "
        "a run)" if rcv.deferred else "draining while the senders run (its buffer cannot hold a run)"))
    raw = Raw(a.rawsend, rcv, a.size, a.raw_ops)
    adapters, skipped = {}, []
    for impl_id in a.impl or DEFAULT_IMPLS:
        ad, why = start(impl_id)
        if ad is None:
            log("note: %s skipped: %s" % (impl_id, why))
            skipped.append({"id": impl_id, "why": why})
        else:
            adapters[impl_id] = ad
            log("%s: %s %s" % (impl_id, ad.hello.get("implementation"), ad.hello.get("runtime") or
                               ad.hello.get("version")))
    broke = []
    hellos = {i: ad.hello for i, ad in adapters.items()}
    samples = {i: [] for i in adapters}
    raws = []
    args = {"size": a.size, "ops": a.ops, "rounds": 4, "warmup": 100, "first_uses": a.first_uses}
    t0 = time.monotonic()
    try:
        order = list(adapters)
        for rep in range(a.reps):
            k = rep % len(order) if order else 0
            before = None
            for impl_id in order[k:] + order[:k]:
                if impl_id not in adapters:
                    continue
                try:
                    if before is None:
                        before = raw.run()
                        raws.append({"rate": before[0], "delivered_ratio": before[1]})
                    res, dl = bench_once(adapters[impl_id], rcv, args)
                    after = raw.run()
                    raws.append({"rate": after[0], "delivered_ratio": after[1]})
                except (AdapterFailure, Unsupported, RuntimeError, subprocess.TimeoutExpired) as e:
                    log("%s broke in repetition %d: %s; dropped from the run" % (impl_id, rep + 1, e))
                    broke.append({"id": impl_id, "repetition": rep + 1, "why": str(e)})
                    adapters.pop(impl_id).stop()
                    before = None
                    continue
                # the raw runs just before and just after it: their geometric mean
                raw_rate = math.sqrt(before[0] * after[0])
                before = after
                samples[impl_id].append((raw_rate, res, dl))
                d, s = res["workloads"]["documented"], res["workloads"]["sync"]
                log("rep %d/%d %-9s raw %s | documented %s %.2fx p50 %.1f us | sync %s %.2fx | delivered %.3f/%.3f"
                    % (rep + 1, a.reps, impl_id, kilo(raw_rate), kilo(d["rate"]), d["rate"] / raw_rate,
                       d["latency_us"]["steady"]["p50"], kilo(s["rate"]), s["rate"] / raw_rate,
                       dl["documented"], dl["sync"]))
    finally:
        for ad in adapters.values():
            ad.stop()
        raw.close()
        rcv.close()
    impls = []
    for impl_id, ss in samples.items():
        if ss:
            impls.append(summarise(impl_id, hellos[impl_id], ss))
    doc = {"generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "command": "make bench-impls BENCH_REPS=%d BENCH_OPS=%d" % (a.reps, a.ops),
           "repetitions": a.reps, "ops": a.ops, "size": a.size, "first_uses": a.first_uses,
           "machine": {"cpus": os.cpu_count(), "loadavg": list(os.getloadavg())},
           "receiver": "drained after each run" if rcv.deferred else "drained while the senders ran",
           "seconds": round(time.monotonic() - t0, 1),
           "baseline": {"what": "raw sendto() loop of %d datagrams (apmsock-rawsend), run just before and "
                                "just after each implementation's bench in every repetition; a ratio divides by "
                                "the geometric mean of the two" % a.raw_ops,
                        "rate_median": median([r["rate"] for r in raws]),
                        "delivered_ratio": median([r["delivered_ratio"] for r in raws])},
           "implementations": impls, "skipped": skipped, "broke": broke}
    os.makedirs(a.reports, exist_ok=True)
    out = os.path.join(a.reports, "bench-impls.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    from apmreport import html_performance
    page = os.path.join(a.reports, "performance.html")
    with open(page, "w", encoding="utf-8") as f:
        f.write(html_performance.render(doc))
    for i in impls:
        w = i["workloads"]
        log("%-9s documented %s = %.3fx raw, sync %s = %.3fx raw (medians of %d)" % (
            i["id"], kilo(w["documented"]["rate_median"]), w["documented"]["ratio_median"],
            kilo(w["sync"]["rate_median"]), w["sync"]["ratio_median"], i["repetitions"]))
    log("wrote %s and %s" % (out, page))
    _relink_index(a.reports)
    return 3 if broke or not impls else 0


def _relink_index(reports):
    if not os.path.exists(os.path.join(reports, "index.html")):
        log("note: no %s/index.html yet; the next report build (make report) links the page" % reports)
        return
    p = subprocess.run([sys.executable, os.path.join(HARNESS, "report", "apm-report"), "build",
                        "--reports", os.path.abspath(reports)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    if p.returncode == 0:
        log("rebuilt %s/index.html: it links performance.html" % reports)
    else:
        log("note: index.html not rebuilt (apm-report build exited %d: %s); make report links the page"
            % (p.returncode, (p.stderr or p.stdout).strip().splitlines()[-1:]))


if __name__ == "__main__":
    sys.exit(main())
