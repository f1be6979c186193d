"""Verdicts and profiles (docs/DESIGN.md section 4).

A case observes once, then judges the observation under a profile.  In the
`documented` profile a judgement that fails documented but holds portable
makes the case NON-STRICT; in the `portable` profile only portable counts.
"""

VERDICTS = ("PASS", "NON-STRICT", "FAIL", "UNSUPPORTED", "SKIP", "ERROR")
MODES = (None, "assertion", "crash", "timeout", "garbage", "protocol")
PROFILES = ("documented", "portable")


class Judge:
    def __init__(self, profile):
        if profile not in PROFILES:
            raise ValueError("unknown profile %r (one of %s)" % (profile, ", ".join(PROFILES)))
        self.profile = profile
        self.nonstrict = []
        self.nonstrict_errors = []   # the documented failures, for their signatures

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
                except AssertionError:
                    raise documented_failure
                self.nonstrict.append(str(documented_failure) or "fails documented, passes portable")
                if key:
                    documented_failure.apmsock_key = key
                self.nonstrict_errors.append(documented_failure)
        except AssertionError as e:
            if key and not getattr(e, "apmsock_key", None):
                e.apmsock_key = key
            raise

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
