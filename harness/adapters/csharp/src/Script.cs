// Protocol 1.1 inside a callback (harness/PROTOCOL.md, "Protocol 1.1"):
// latches that hold a callback (bounded), and the callback_script that a
// callback runs, step by step, through the same op table as requests.
//
// Design notes.  A latch, once released, stays open, and releasing one
// before any callback waits on it is allowed.  Every wait has a deadline
// (timeout_ms), so a latch nobody releases costs at most that long.  A
// script is validated whole before Begin (shape, ops, depth): a bad one is a
// protocol_error and no operation starts.
using System;
using System.Collections.Generic;
using System.Threading;

namespace Apmsock.CSharp
{
    sealed class Hold
    {
        public string Latch;
        public int TimeoutMs;
    }

    static class Latches
    {
        static readonly object gate = new object ();
        static readonly Dictionary<string, bool> open = new Dictionary<string, bool> ();
        static readonly Dictionary<string, int> waiters = new Dictionary<string, int> ();

        // Counts the calling callback as a waiter; Wait then blocks it until
        // the latch is released (true) or the bound runs out (false).  Two
        // steps so that the "held" event is written between them: a
        // release_latch sent on seeing it finds the waiter.
        public static void Enter (string name)
        {
            lock (gate) {
                int n;
                waiters.TryGetValue (name, out n);
                waiters [name] = n + 1;
            }
        }

        public static bool Wait (string name, int timeoutMs)
        {
            DateTime until = DateTime.UtcNow.AddMilliseconds (timeoutMs);
            lock (gate) {
                try {
                    for (;;) {
                        bool o;
                        if (open.TryGetValue (name, out o) && o)
                            return true;
                        TimeSpan left = until - DateTime.UtcNow;
                        if (left <= TimeSpan.Zero)
                            return false;
                        Monitor.Wait (gate, left);
                    }
                } finally {
                    waiters [name] = waiters [name] - 1;
                }
            }
        }

        public static Dictionary<string, object> Release (Dictionary<string, object> a)
        {
            string name = Args.Str (a, "latch");
            if (name.Length == 0)
                throw new ProtocolError ("\"latch\" must be a non-empty string");
            lock (gate) {
                open [name] = true;
                int n;
                waiters.TryGetValue (name, out n);
                Monitor.PulseAll (gate);
                return new Dictionary<string, object> { { "waiters", n } };
            }
        }
    }

    static class Script
    {
        const int MaxDepth = 4, MaxSteps = 64;
        static readonly HashSet<string> allowed = new HashSet<string> {
            "end_send", "end_send_to", "close", "begin_send", "begin_send_to",
            "status", "wait", "shutdown", "set_option" };

        // null when absent; ProtocolError when malformed.
        public static List<object> Parse (Dictionary<string, object> a, int depth)
        {
            object v;
            if (!a.TryGetValue ("callback_script", out v) || v == null)
                return null;
            var steps = v as List<object>;
            if (steps == null)
                throw new ProtocolError ("\"callback_script\" must be an array");
            if (depth > MaxDepth || steps.Count > MaxSteps)
                throw new ProtocolError ("\"callback_script\": at most " + MaxSteps + " steps, nested " + MaxDepth + " deep");
            for (int i = 0; i < steps.Count; i++) {
                var step = steps [i] as Dictionary<string, object>;
                object op, args;
                if (step == null || !step.TryGetValue ("op", out op) || !(op is string) || !allowed.Contains ((string) op)
                    || (step.TryGetValue ("args", out args) && args != null && !(args is Dictionary<string, object>)))
                    throw new ProtocolError ("\"callback_script\"[" + i + "]: an object with \"op\" one of end_send, end_send_to, close, begin_send, begin_send_to, status, wait, shutdown, set_option and \"args\" an object");
                if (step.TryGetValue ("args", out args) && args != null)
                    Parse ((Dictionary<string, object>) args, depth + 1);
            }
            return steps;
        }

        public static Hold ParseHold (Dictionary<string, object> a)
        {
            object v;
            if (!a.TryGetValue ("hold", out v) || v == null)
                return null;
            var h = v as Dictionary<string, object>;
            object latch, t;
            if (h == null || !h.TryGetValue ("latch", out latch) || !(latch is string) || ((string) latch).Length == 0
                || !h.TryGetValue ("timeout_ms", out t) || !(t is long) || (long) t < 1 || (long) t > 60000)
                throw new ProtocolError ("\"hold\" must be {\"latch\": name, \"timeout_ms\": 1..60000}");
            return new Hold { Latch = (string) latch, TimeoutMs = (int) (long) t };
        }

        // Inside the callback: each step as the reply body it would get as a
        // request, plus "op".  "$self" as a result names this operation.
        public static List<object> Run (List<object> steps, string self)
        {
            var outcomes = new List<object> ();
            foreach (object o in steps) {
                var step = (Dictionary<string, object>) o;
                string op = (string) step ["op"];
                object av;
                var args = step.TryGetValue ("args", out av) && av != null
                    ? new Dictionary<string, object> ((Dictionary<string, object>) av)
                    : new Dictionary<string, object> ();
                object r;
                if (args.TryGetValue ("result", out r) && (r as string) == "$self")
                    args ["result"] = self;
                Dictionary<string, object> body = Adapter.Body (op, args);
                body ["op"] = op;
                outcomes.Add (body);
            }
            return outcomes;
        }
    }
}
