"""Verdicts and profiles (docs/DESIGN.md section 4).

A case observes once, then judges the observation under a profile.  In the
`documented` profile a judgement that fails documented but holds portable
makes the case NON-STRICT; in the `portable` profile only portable counts.

The `both` profile judges one observation under the two at once (one
harness execution, two verdict sets: harness/conform --profile both).  It
judges exactly as `documented` does, and keeps what `portable` needs to give
its own verdict: a check that fails documented and passes portable fails
nothing under portable; a check that fails both raises the documented
failure and keeps the portable one (`portable_failure`), whose message and
signature are the portable run's.  Invariant this rests on: whatever passes
documented passes portable (portable only widens what is accepted), so a
check that passes documented is not judged again under portable.
"""

VERDICTS = ("PASS", "NON-STRICT", "FAIL", "UNSUPPORTED", "SKIP", "ERROR")
MODES = (None, "assertion", "crash", "timeout", "garbage", "protocol")
PROFILES = ("documented", "portable")
JUDGED = PROFILES + ("both",)   # what a Judge (one execution) may judge under


class Judge:
    def __init__(self, profile):
        if profile not in JUDGED:
            raise ValueError("unknown profile %r (one of %s)" % (profile, ", ".join(JUDGED)))
        self.profile = profile
        self.nonstrict = []
        self.nonstrict_errors = []   # the documented failures, for their signatures
        # `both`: (documented, portable) AssertionErrors of the check that
        # failed both profiles; the case stops there, so there is at most one.
        self.both_failed = None

    def check(self, fn, key=None):
        """fn(profile) asserts; raises the documented AssertionError when the
        observation fails every profile it is judged under.  key: the
        check's own failure signature (signature.py), instead of the one
        made from its code."""
        try:
            if self.profile == "portable":
                fn("portable")
                return
            try:
                fn("documented")
            except AssertionError as documented_failure:
                try:
                    fn("portable")
                except AssertionError as portable_failure:
                    if self.profile == "both":
                        if key:
                            portable_failure.apmsock_key = key
                        self.both_failed = (documented_failure, portable_failure)
                    raise documented_failure
                self.nonstrict.append(str(documented_failure) or "fails documented, passes portable")
                if key:
                    documented_failure.apmsock_key = key
                self.nonstrict_errors.append(documented_failure)
        except AssertionError as e:
            if key and not getattr(e, "apmsock_key", None):
                e.apmsock_key = key
            raise

    def portable_failure(self, exc):
        """The portable run's failure for the exception `exc` that ended a
        `both` case, or None when exc is not a check's failure of both
        profiles (an assert outside h.check fails both the same way)."""
        if self.both_failed is not None and self.both_failed[0] is exc:
            return self.both_failed[1]
        return None

    @property
    def verdict(self):
        return "NON-STRICT" if self.nonstrict else "PASS"


def worst(verdicts):
    """The verdict of a group of cases, for summaries: ERROR > FAIL >
    NON-STRICT > UNSUPPORTED > SKIP > PASS."""
    order = ("PASS", "SKIP", "UNSUPPORTED", "NON-STRICT", "FAIL", "ERROR")
    best = "PASS"
    for v in verdicts:
        if order.index(v) > order.index(best):
            best = v
    return best
