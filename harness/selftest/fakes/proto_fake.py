#!/usr/bin/python3
"""A small adapter that speaks the protocol's bare rules correctly, except the one that
PROTO_FAKE_BREAK names, for the protocol checker's self-tests (test_checker.py):

  none          break nothing (every check passes)
  hello         hello's result lacks `protocol`
  framing       print a startup banner on stdout
  unknown-op    answer an unknown op with ok:true
  malformed     die on a line that is not JSON
  bigint        answer a line holding an integer beyond 64 bits with id null
  error-shape   an error object without socket_error, errno, ...
  double-reply  answer every close twice
  quit          answer quit, then exit 1
  bench-good    also advertise bench (protocol 1.1) and answer it well, its datagrams sent
  bench-silent  ... answer it well-formed but send no datagram
  bench-shape   ... send them, but answer with p50 above p99
"""
import json
import os
import socket
import sys

BREAK = os.environ.get("PROTO_FAKE_BREAK", "none")
ERR = {"type": "System.ArgumentNullException", "param": "asyncResult", "socket_error": None,
       "socket_error_code": None, "errno": None, "message": "Value cannot be null."}


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def bench(args):
    """A made-up bench run: tagged datagrams (unless bench-silent) and a reply of its shape."""
    ops, first, warmup = args["ops"], args.get("first_uses", 16), args.get("warmup", 100)
    if not isinstance(ops, int) or ops < 1:
        return {"ok": False, "protocol_error": "ops must be 1 or more"}
    ep = (args["endpoint"]["address"], args["endpoint"]["port"])
    sent = {1: first + 2 * warmup, 2: ops, 3: ops}
    if BREAK != "bench-silent":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for tag, n in sent.items():
                for _ in range(n):
                    s.sendto(bytes([tag]) + bytes(args["size"] - 1), ep)
    lat = {"n": ops, "p50": 9.0 if BREAK == "bench-shape" else 3.0, "p99": 5.0}
    first_lat = {"n": first, "p50": 4.0, "p99": 6.0} if first else {"n": 0, "p50": None, "p99": None}
    wl = {"sent": ops, "seconds": 0.5, "rate": ops / 0.5, "alloc_per_op": None, "what": "made up"}
    return {"ok": True, "result": {
        "size": args["size"], "ops": ops, "rounds": min(ops, args.get("rounds", 4)), "untimed_sent": sent[1],
        "alloc": None, "workloads": {
            "documented": dict(wl, tag=2, callbacks_inline=0, latency_us={"first": first_lat, "steady": lat}),
            "sync": dict(wl, tag=3)}}}


def main():
    if BREAK == "framing":
        print("fake adapter starting", flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except ValueError:
            if BREAK == "malformed":
                raise
            out({"id": None, "ok": False, "protocol_error": "not JSON"})
            continue
        rid, op = req.get("id"), req.get("op")
        if BREAK == "bigint" and any(isinstance(v, int) and v >= 2 ** 63 for v in (req.get("args") or {}).values()):
            out({"id": None, "ok": False, "protocol_error": "too big integer"})
            continue
        if op == "hello":
            res = {"implementation": "proto-fake", "version": "0", "protocol": "1.0", "contract": "1.0",
                   "capabilities": ["udp", "ipv4"], "thread": "main"}
            if BREAK == "hello":
                del res["protocol"]
            if BREAK.startswith("bench"):
                res.update(protocol="1.1", capabilities=["udp", "ipv4", "bench"])
            out({"id": rid, "ok": True, "result": res})
        elif op == "socket":
            out({"id": rid, "ok": True, "result": {"socket": "s1"}})
        elif op == "end_send":
            err = dict(ERR)
            if BREAK == "error-shape":
                for k in ("socket_error", "socket_error_code", "errno"):
                    del err[k]
            out({"id": rid, "ok": False, "error": err})
        elif op == "close":
            out({"id": rid, "ok": True, "result": {}})
            if BREAK == "double-reply":
                out({"id": rid, "ok": True, "result": {}})
        elif op == "bench" and BREAK.startswith("bench"):
            out(dict(bench(req.get("args") or {}), id=rid))
        elif op == "quit":
            out({"id": rid, "ok": True, "result": {}})
            return 1 if BREAK == "quit" else 0
        elif BREAK == "unknown-op":
            out({"id": rid, "ok": True, "result": {}})
        else:
            out({"id": rid, "ok": False, "protocol_error": "unknown op %r" % op})
    return 0


if __name__ == "__main__":
    sys.exit(main())
