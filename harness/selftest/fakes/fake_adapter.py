#!/usr/bin/python3
"""A fake adapter for the harness's self-tests: speaks just enough of the
protocol to reach a chosen op, then misbehaves as FAKE_ADAPTER_MODE says:

  crash:OP    kill itself with SIGSEGV when OP arrives
  exit:OP     exit with status 3 when OP arrives
  hang:OP     stop answering when OP arrives (bounded: exits after 60 s)
  garbage:OP  print a line that is not JSON when OP arrives
  badid:OP    reply to OP with an id that was never sent
  orphan:OP   start a child that sleeps (bounded, 60 s) and says its pid on
              stderr, then stop answering when OP arrives: the harness must
              end the child with the adapter (its process group)
  major       report protocol 2.0 in hello
  nocaps      report no capabilities
  notconn     answer begin_send with SocketException NotConnected (a correct
              answer for CONN-01/CONN-02)
  flaky       as notconn, but every third Begin succeeds (a wrong answer): a
              racy implementation, for --repeat
"""
import json
import os
import signal
import sys
import time

MODE = os.environ.get("FAKE_ADAPTER_MODE", "notconn")
KIND, _, TARGET = MODE.partition(":")
CAPS = ["udp", "tcp", "ipv4", "ipv6"]


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    names = begins = 0
    for line in sys.stdin:
        req = json.loads(line)
        op, rid = req["op"], req["id"]
        if op == TARGET or op.startswith(TARGET + "_"):  # begin_send covers begin_send_to
            if KIND == "crash":
                os.kill(os.getpid(), signal.SIGSEGV)
            if KIND == "exit":
                sys.exit(3)
            if KIND == "orphan":
                import subprocess
                child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
                sys.stderr.write("fake: child pid %d\n" % child.pid)
                sys.stderr.flush()
            if KIND in ("hang", "orphan"):
                # The hang under test: the harness must time the request out and
                # kill us.  Bounded so a harness that never does leaves no process.
                time.sleep(60)
                sys.exit(0)
            if KIND == "garbage":
                sys.stdout.write("Segmentation fault? no: just garbage\n")
                sys.stdout.flush()
                continue
            if KIND == "badid":
                out({"id": rid + 1000, "ok": True, "result": {}})
                continue
        if op == "hello":
            out({"id": rid, "ok": True, "result": {
                "implementation": "fake", "version": "0", "contract": "1.0",
                "protocol": "2.0" if KIND == "major" else "1.0",
                "capabilities": [] if KIND == "nocaps" else CAPS, "thread": "tid:1"}})
        elif op == "socket":
            names += 1
            out({"id": rid, "ok": True, "result": {"socket": "s%d" % names}})
        elif op in ("begin_send", "begin_send_to") and KIND in ("notconn", "flaky"):
            begins += 1
            if KIND == "flaky" and begins % 3 == 0:
                out({"id": rid, "ok": True, "result": {"result": "r%d" % begins}})
                continue
            out({"id": rid, "ok": False, "error": {
                "type": "System.Net.Sockets.SocketException", "param": None,
                "socket_error": "NotConnected", "socket_error_code": 10057, "errno": 107,
                "message": "not connected"}})
        elif op == "quit":
            out({"id": rid, "ok": True, "result": {}})
            return 0
        else:
            out({"id": rid, "ok": True, "result": {}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
