"""The bench op's reply check (apmsock_harness/benchreply.py, PROTOCOL.md "bench"): a good
reply has no problem; each way of breaking it is named."""
import copy

import pytest

from apmsock_harness.benchreply import problems

GOOD = {"size": 64, "ops": 10, "rounds": 2, "untimed_sent": 12,
        "alloc": {"unit": "allocations", "scope": "process", "how": "interposed"},
        "workloads": {
            "documented": {"tag": 2, "what": "the pattern", "sent": 10, "seconds": 0.01, "rate": 1000.0,
                           "alloc_per_op": 0.0, "callbacks_inline": 0,
                           "latency_us": {"first": {"n": 2, "p50": 5.0, "p99": 40.0},
                                          "steady": {"n": 10, "p50": 3.0, "p99": 9.5}}},
            "sync": {"tag": 3, "what": "SendTo", "sent": 10, "seconds": 0.002, "rate": 5000.0, "alloc_per_op": 0}}}


def test_a_good_reply_has_no_problem():
    assert problems(GOOD, 10, 2) == []
    nothing_counted = copy.deepcopy(GOOD)
    nothing_counted["alloc"] = None
    for w in nothing_counted["workloads"].values():
        w["alloc_per_op"] = None
    assert problems(nothing_counted, 10, 2) == []


def _broken(path, value):
    r = copy.deepcopy(GOOD)
    *keys, last = path.split(".")
    d = r
    for k in keys:
        d = d[k]
    if value is KeyError:
        del d[last]
    else:
        d[last] = value
    return r


@pytest.mark.parametrize("path,value,said", [
    ("ops", 9, "ops: 9, asked for 10"),
    ("workloads.sync", KeyError, "workloads.sync: missing"),
    ("workloads.sync.rate", 7.0, "is not sent / seconds"),
    ("workloads.documented.sent", 8, "documented.sent: 8"),
    ("workloads.documented.latency_us.steady.p50", 99.0, "0 <= p50 <= p99"),
    ("workloads.documented.latency_us.first.n", 1, "first.n: 1, asked for 2"),
    ("workloads.documented.callbacks_inline", -1, "callbacks_inline"),
    ("alloc", {"unit": "kg", "scope": "process", "how": "x"}, "alloc:"),
    ("alloc", None, "but alloc is null"),
    ("workloads.sync.tag", 2, "sync.tag: 2, wants 3"),
])
def test_each_malformed_reply_is_named(path, value, said):
    found = problems(_broken(path, value), 10, 2)
    assert any(said in p for p in found), found
