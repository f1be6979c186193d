"""PROTOCOL.md stays complete enough to write an adapter from (issue 10): every op the
reference adapter serves and the skeleton knows is in its table, every capability the
adapters report and every registry feature is defined, and the points a new adapter's
author asked about are answered."""
import importlib.util
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.dirname(HERE)
ROOT = os.path.dirname(HARNESS)


def read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as f:
        return f.read()


DOC = read("harness", "PROTOCOL.md")
DOC_OPS = set(re.findall(r"^\| `(\w+)` \|", DOC[DOC.index("## Operations"):DOC.index("Option names for")], re.M))
DOC_OPS_11 = set(re.findall(r"^\| `(\w+)` \|", DOC[DOC.index("### New ops"):DOC.index("### `hold`")], re.M))
DOC_CAPS = set(re.findall(r"`(\w+)`", DOC[DOC.index("## Capabilities"):DOC.index("## The registry entry")]))


def test_every_op_of_the_reference_adapter_and_the_skeleton_is_documented():
    ref_ops = set(re.findall(r"XX\((\w+), OP_\w+\)", read("harness", "adapters", "reference", "src", "dispatch.c")))
    spec = importlib.util.spec_from_file_location("apmsock_skeleton",
                                                  os.path.join(HARNESS, "adapters", "skeleton", "adapter.py"))
    skeleton = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(skeleton)
    skel_ops = set(skeleton.OPS) | {"quit", "thread_start", "thread_exit"}
    # the reference speaks 1.1; the skeleton may stay 1.0
    assert ref_ops and ref_ops == DOC_OPS | DOC_OPS_11, (ref_ops ^ (DOC_OPS | DOC_OPS_11))
    assert skel_ops == DOC_OPS, skel_ops ^ DOC_OPS


def test_every_capability_reported_is_defined():
    ref = set(re.findall(r'"(\w+)"', read("harness", "adapters", "reference", "src", "ops_misc.c").split(
        "capabilities[]", 1)[1].split("};", 1)[0]))
    assert ref and ref <= DOC_CAPS, ref - DOC_CAPS


def test_registry_features_are_defined():
    import yaml
    reg = yaml.safe_load(read("fixtures", "implementations.yaml"))["implementations"]
    features = {f for d in reg.values() for f in d.get("features") or []}
    section = DOC[DOC.index("## The registry entry"):]
    assert features and all("| `%s` |" % f in section for f in features)


def test_the_questions_a_new_author_asked_are_answered():
    for needle in ("`timeout_ms: -1` waits\n  without limit", "**release** says", "an `op` nobody defined",
                   "**A callback event may come before the Begin reply**", "`thread`\n  = the identity of the thread that called Begin",
                   "`contract` is the version of the behaviour\n  contract", "`fixtures/socket-errors.yaml`",
                   "`fixtures/clauses.yaml`", "adapters/skeleton/", "--check-adapter"):
        assert needle in DOC, needle
