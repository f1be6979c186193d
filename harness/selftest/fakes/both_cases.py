"""Synthetic cases, one per kind of verdict, for test_both_profiles.py
(run there by path against fake_adapter.py; never part of the suite)."""
import pytest


def expect(p, got):
    # documented wants "x"; portable also takes "y"
    assert got == "x" or (p == "portable" and got == "y"), "%s: want x, got %s" % (p, got)


def strict(p, got):
    # the two profiles fail with different messages and lines
    if p == "documented":
        assert got == "x", "documented: want x, got %s" % got
    else:
        assert got in ("x", "y"), "portable: want x or y, got %s" % got


def helper(h, got):
    h.check(lambda p: strict(p, got))


@pytest.mark.clause("CONN-01")
def test_CONN_01_pass(h):
    h.check(lambda p: expect(p, "x"))


@pytest.mark.clause("CONN-01")
def test_CONN_01_nonstrict(h):
    h.check(lambda p: expect(p, "y"))
    h.check(lambda p: expect(p, "x"))


@pytest.mark.clause("CONN-01")
def test_CONN_01_fail_both(h):
    h.check(lambda p: expect(p, "y"))
    h.check(lambda p: strict(p, "z"))


@pytest.mark.clause("CONN-01")
def test_CONN_01_fail_helper(h):
    helper(h, "x")
    helper(h, "z")


@pytest.mark.clause("CONN-01")
def test_CONN_01_fail_keyed(h):
    h.check(lambda p: strict(p, "z"), key="keyed")


@pytest.mark.clause("CONN-01")
def test_CONN_01_fail_plain(h):
    h.check(lambda p: expect(p, "y"))
    assert 1 + 1 == 3, "plain assert"


@pytest.mark.clause("CONN-01")
def test_CONN_01_skip(h):
    pytest.skip("not here")


@pytest.mark.clause("CONN-01")
def test_CONN_01_unsupported(h):
    h.require("no-such-capability")


@pytest.mark.clause("CONN-01")
def test_CONN_01_error(fresh):
    c = fresh(env={"FAKE_ADAPTER_MODE": "crash:socket"})
    c.check(lambda p: expect(p, "y"))
    c.a.call("socket", {"family": "inet", "type": "dgram"})
