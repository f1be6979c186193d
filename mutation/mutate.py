#!/usr/bin/python3
"""mutation/mutate.py: how much of reference/src do the suites check?

    mutation/mutate.py list   [--mutants N] [--seed S]
    mutation/mutate.py run    [--mutants N] [--seed S] [--jobs J] [--sanitizers] [--out DIR]
    mutation/mutate.py report [--mutants N] [--seed S] [--out DIR]

`run` builds each selected mutant in a private copy of the project
(build/mutation/ws-<n>/, never the work tree), runs the C suite and the
harness against it (and, for what they let through, the C suite's ASan+UBSan and TSan builds with --sanitizers),
records per mutant which suite killed it and which clauses failed, and
writes reports/mutation/mutation.json and index.html.  It resumes: mutants
already in DIR/state.jsonl are not run again.

Exit status: 0 done (and, with --min-*, every score at its threshold),
1 a score below its threshold, 3 the unmutated tree fails or cannot be
built, 4 usage error.
"""
import argparse
import glob
import os
import queue
import random
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from apmsock_mutation import operators, report, results, workspace  # noqa: E402

EQUIVALENTS = os.path.join(ROOT, "fixtures", "mutation-equivalents.yaml")


class Parser(argparse.ArgumentParser):
    def error(self, message):
        print("mutate: usage error: %s" % message, file=sys.stderr)
        sys.exit(4)


def parse(argv):
    ap = Parser(prog="mutation/mutate.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=("list", "run", "report"))
    ap.add_argument("--mutants", type=int, default=0, help="a sample of N mutants (default: all)")
    ap.add_argument("--seed", type=int, default=1, help="the sample's seed (default 1)")
    ap.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 2),
                    help="mutants judged at once, one workspace each (default: cores, at most 2)")
    ap.add_argument("--sanitizers", action="store_true", help="also run the C suite under ASan+UBSan and under TSan, on the mutants the plain suites did not kill")
    ap.add_argument("--out", default=os.path.join(os.environ.get("REPORTS", os.path.join(ROOT, "reports")),
                                                   "mutation"))
    ap.add_argument("--min-c", type=float, default=None, help="fail (exit 1) under this C suite score")
    ap.add_argument("--min-harness", type=float, default=None, help="... harness alone")
    ap.add_argument("--min-combined", type=float, default=None, help="... both suites")
    a = ap.parse_args(argv)
    if a.mutants < 0 or a.jobs < 1:
        ap.error("--mutants must be >= 0 and --jobs >= 1")
    return a


def candidates():
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "reference", "src", "*.c"))):
        rel = os.path.relpath(path, ROOT)
        with open(path) as f:
            out.extend(operators.mutants(rel, f.read()))
    return out


def select(all_mutants, n, seed):
    if not n or n >= len(all_mutants):
        return list(all_mutants)
    chosen = random.Random(seed).sample(all_mutants, n)
    return sorted(chosen, key=lambda m: (m.file, m.start, m.after))


def sources():
    cache = {}
    for path in glob.glob(os.path.join(ROOT, "reference", "src", "*.c")):
        with open(path) as f:
            cache[os.path.relpath(path, ROOT)] = f.read()
    return cache


def judge_all(todo, args, state_path, fingerprint):
    """Workers, one workspace each, take mutants from one queue; each record
    is appended to the state file the moment it is judged."""
    src = sources()
    jobs = min(args.jobs, max(1, len(todo)))
    spaces = [workspace.Workspace(ROOT, os.path.join(ROOT, "build", "mutation", "ws-%d" % i),
                                  args.sanitizers) for i in range(jobs)]
    say("preparing %d workspace(s) under build/mutation/ (a copy of the project each, built once)" % jobs)
    for ws in spaces:
        ws.create()
        ok, out = ws.build()
        if not ok:
            say("the unmutated tree does not build:\n" + out[-1500:])
            return 3
    try:
        times = spaces[0].calibrate()
    except RuntimeError as e:
        say(str(e))
        return 3
    for ws in spaces[1:]:
        ws.limits = dict(spaces[0].limits)
    say("clean run: %s; limits %s" % (fmt_times(times), fmt_times(spaces[0].limits)))

    q = queue.Queue()
    for m in todo:
        q.put(m)
    lock = threading.Lock()
    done = [0]
    started = time.monotonic()
    failure = []

    def work(ws):
        while not failure:
            try:
                m = q.get_nowait()
            except queue.Empty:
                return
            try:
                verdict = ws.judge(m, src[m.file])
            except RuntimeError as e:
                failure.append(str(e))
                return
            rec = dict(m.as_dict(), fingerprint=fingerprint, **verdict)
            with lock:
                results.append_state(state_path, rec)
                done[0] += 1
                eta = (time.monotonic() - started) / done[0] * (len(todo) - done[0])
                say("[%d/%d] %-9s %s:%d %s %r -> %r%s (eta %ds)" % (
                    done[0], len(todo), rec["status"], m.file, m.line, m.operator, m.before[:30],
                    m.after[:30], " by " + ",".join(rec.get("killed_by", [])) if rec.get("killed_by") else "",
                    eta))

    threads = [threading.Thread(target=work, args=(ws,), daemon=True) for ws in spaces]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(timeout=1.0)
    if failure:
        say(failure[0])
        return 3
    return 0


def fmt_times(d):
    return ", ".join("%s %.0f s" % kv for kv in sorted(d.items()))


def say(msg):
    print("mutate: " + msg, flush=True)


def main(argv):
    args = parse(argv)
    all_mutants = candidates()
    chosen = select(all_mutants, args.mutants, args.seed)
    if args.command == "list":
        for m in chosen:
            print("%s %s:%d %s %r -> %r" % (m.key, m.file, m.line, m.operator, m.before, m.after))
        say("%d of %d candidates" % (len(chosen), len(all_mutants)))
        return 0
    state_path = os.path.join(args.out, "state.jsonl")
    try:
        equivalents = results.load_equivalents(EQUIVALENTS)
    except (ValueError, OSError) as e:
        say("bad equivalents file: %s" % e)
        return 4
    fingerprint = workspace.suites_fingerprint(ROOT)
    if args.command == "run":
        done = results.load_state(state_path, fingerprint)
        todo = [m for m in chosen if m.key not in done]
        say("%d candidates, %d selected, %d already judged (%s), %d to run"
            % (len(all_mutants), len(chosen), len(chosen) - len(todo), state_path, len(todo)))
        if todo:
            t0 = time.monotonic()
            rc = judge_all(todo, args, state_path, fingerprint)
            say("judged in %.0f s" % (time.monotonic() - t0))
            if rc:
                return rc
    done = results.load_state(state_path, fingerprint)
    records = [done[m.key] for m in chosen if m.key in done]
    suites = ["c", "harness"] + [s for s in ("c-asan", "c-tsan") if any(s in r.get("suites", {}) for r in records)]
    meta = {"fingerprint": fingerprint, "candidates": len(all_mutants), "mutants": args.mutants, "seed": args.seed,
            "judged": len(records), "selected": len(chosen), "suites": suites}
    doc = report.build(records, equivalents, meta)
    report.write(args.out, doc)
    s = doc["scores"]
    say("scores of %d killable (%d stillborn, %d equivalent): %s" % (
        s["killable"], s["stillborn"], s["equivalent"],
        ", ".join("%s %s %%" % (k, s[k]["score"]) for k in suites + ["combined"])))
    say("report: %s" % os.path.join(os.path.relpath(args.out, ROOT), "index.html"))
    if len(records) < len(chosen):
        say("%d selected mutants not judged yet: run again to continue" % (len(chosen) - len(records)))
    low = [(k, s[k]["score"], t) for k, t in (("c", args.min_c), ("harness", args.min_harness),
                                               ("combined", args.min_combined))
           if t is not None and (s[k]["score"] or 0) < t]
    for k, got, want in low:
        say("%s score %s %% is under its threshold %s %%" % (k, got, want))
    return 1 if low else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        say("interrupted: what was judged is in the state file; run again to continue")
        sys.exit(130)
