// The `bench` op (protocol 1.1, capability bench; PROTOCOL.md, "bench"):
// the workloads run inside the runtime's own process, so no JSON line stands
// between two operations.
//
// - documented: the seeds' pattern, "Call the Set method on a
//   ManualResetEvent in the callback method when you want the original
//   thread to continue executing": BeginSendTo with a callback that calls
//   EndSendTo and sets a ManualResetEvent; the Begin thread waits on it
//   (and resets it) before the next Begin.
// - sync: Socket.SendTo of the same payload, the runtime's synchronous call.
// Both are interleaved in rounds.  Every wait is bounded (WaitS).  The
// callback delegate and the event are made once, so what is allocated per
// operation is the runtime's.  Allocations: Runtime.AllocatedBytes (the
// bytes the thread that calls Begin allocated; the callback's thread is
// not counted).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace Apmsock.CSharp
{
    static class Bench
    {
        const int WaitS = 5;
        const long MaxOps = 1000000, MaxFirst = 1000, MaxSize = 65507;
        // The first payload byte names the workload, for the receiver's counts.
        const byte TagUntimed = 1, TagDocumented = 2, TagSync = 3;

        // One documented operation: written by the Begin thread before
        // Begin, by the callback after; the event orders the two.
        sealed class Doc
        {
            public readonly ManualResetEvent Done = new ManualResetEvent (false);
            public Socket Socket;
            public long CalledTicks;
            public Exception EndThrew;
            public int BeginThread;
            public bool Inline;        // the callback ran on the Begin thread
        }

        static readonly AsyncCallback OnCallback = ar => {
            var d = (Doc) ar.AsyncState;
            d.CalledTicks = Stopwatch.GetTimestamp ();
            d.Inline = Thread.CurrentThread.ManagedThreadId == d.BeginThread;
            try {
                d.Socket.EndSendTo (ar);
            } catch (Exception e) {
                d.EndThrew = e;
            }
            d.Done.Set ();
        };

        sealed class Tally
        {
            public long Ticks, Bytes, Done, Inline;
        }

        static long Opt (Dictionary<string, object> a, string key, long dflt, long lo, long hi)
        {
            long v = Args.Has (a, key) ? Args.Long (a, key) : dflt;
            if (v < lo || v > hi)
                throw new ProtocolError ("argument \"" + key + "\" out of range [" + lo + ", " + hi + "]");
            return v;
        }

        public static Dictionary<string, object> Run (Dictionary<string, object> a)
        {
            IPEndPoint ep = Args.EndPoint (a, "endpoint");
            if (ep == null || ep.AddressFamily != AddressFamily.InterNetwork)
                throw new ProtocolError ("bench: \"endpoint\" must be an IPv4 endpoint");
            if (!Args.Has (a, "size") || !Args.Has (a, "ops"))
                throw new ProtocolError ("bench needs \"size\" and \"ops\"");
            int size = (int) Opt (a, "size", -1, 1, MaxSize);
            long ops = Opt (a, "ops", -1, 1, MaxOps);
            long rounds = Math.Min (ops, Opt (a, "rounds", 4, 1, MaxOps));
            long warmup = Opt (a, "warmup", 100, 0, MaxOps);
            long first = Opt (a, "first_uses", 16, 0, MaxFirst);

            var payload = new byte[4][];
            for (byte tag = TagUntimed; tag <= TagSync; tag++) {
                payload [tag] = new byte[size];
                payload [tag] [0] = tag;
            }
            var doc = new Doc ();
            var lat = new long[ops];
            var firstLat = new long[first];
            long untimed = 0;
            var tDoc = new Tally ();
            var tSync = new Tally ();
            Socket s;
            try {
                s = new Socket (AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            } catch (Exception e) {
                throw new ImplFault (e);
            }
            try {
                // First use: a fresh socket each time, one documented operation.
                for (long i = 0; i < first; i++) {
                    Socket f;
                    try {
                        f = new Socket (AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    } catch (Exception e) {
                        throw new ImplFault (e);
                    }
                    using (f)
                        firstLat [i] = Documented (doc, f, payload [TagUntimed], size, ep);
                    untimed++;
                }
                for (long i = 0; i < warmup; i++) {
                    Documented (doc, s, payload [TagUntimed], size, ep);
                    Sync (s, payload [TagUntimed], size, ep);
                    untimed += 2;
                }
                for (long k = 0; k < rounds; k++) {
                    long share = ops / rounds + (k < ops % rounds ? 1 : 0);
                    bool docFirst = k % 2 == 0;
                    for (int pass = 0; pass < 2; pass++) {
                        bool documented = (pass == 0) == docFirst;
                        Chunk (documented, documented ? tDoc : tSync, share, doc, s,
                               payload [documented ? TagDocumented : TagSync], size, ep, lat);
                    }
                }
            } finally {
                s.Close ();
            }
            var d = Workload (TagDocumented, "BeginSendTo with a callback that calls EndSendTo and sets a "
                + "ManualResetEvent; the thread that called Begin waits on it", tDoc);
            d ["callbacks_inline"] = tDoc.Inline;
            d ["latency_us"] = new Dictionary<string, object> {
                { "first", Percentiles (firstLat) }, { "steady", Percentiles (lat) } };
            var y = Workload (TagSync, "Socket.SendTo, the synchronous call", tSync);
            object alloc = null;
            if (Runtime.AllocatedBytes () >= 0)
                alloc = new Dictionary<string, object> { { "unit", "bytes" }, { "scope", "thread" },
                    { "how", "GC.GetAllocatedBytesForCurrentThread on the thread that calls Begin" } };
            return new Dictionary<string, object> {
                { "size", size }, { "ops", ops }, { "rounds", rounds }, { "untimed_sent", untimed },
                { "workloads", new Dictionary<string, object> { { "documented", d }, { "sync", y } } },
                { "alloc", alloc },
            };
        }

        // One documented operation; its Begin-to-callback-start time in ticks.
        static long Documented (Doc d, Socket s, byte[] buf, int size, EndPoint ep)
        {
            d.Socket = s;
            d.EndThrew = null;
            d.BeginThread = Thread.CurrentThread.ManagedThreadId;
            d.Done.Reset ();
            long begun = Stopwatch.GetTimestamp ();
            try {
                s.BeginSendTo (buf, 0, size, SocketFlags.None, ep, OnCallback, d);
            } catch (Exception e) {
                throw new ImplFault (e);
            }
            if (!d.Done.WaitOne (WaitS * 1000))
                throw new ProtocolError ("bench: no callback within " + WaitS + " s of BeginSendTo");
            if (d.EndThrew != null)
                throw new ImplFault (d.EndThrew);
            return d.CalledTicks - begun;
        }

        static void Sync (Socket s, byte[] buf, int size, EndPoint ep)
        {
            try {
                s.SendTo (buf, 0, size, SocketFlags.None, ep);
            } catch (Exception e) {
                throw new ImplFault (e);
            }
        }

        static void Chunk (bool documented, Tally t, long ops, Doc d, Socket s, byte[] buf, int size,
                           EndPoint ep, long[] lat)
        {
            long b0 = Runtime.AllocatedBytes ();
            long t0 = Stopwatch.GetTimestamp ();
            for (long i = 0; i < ops; i++) {
                if (documented) {
                    lat [t.Done + i] = Documented (d, s, buf, size, ep);
                    t.Inline += d.Inline ? 1 : 0;
                } else
                    Sync (s, buf, size, ep);
            }
            t.Ticks += Stopwatch.GetTimestamp () - t0;
            t.Bytes += Runtime.AllocatedBytes () - b0;
            t.Done += ops;
        }

        static Dictionary<string, object> Workload (byte tag, string what, Tally t)
        {
            double secs = (double) t.Ticks / Stopwatch.Frequency;
            object perOp = null;
            if (Runtime.AllocatedBytes () >= 0 && t.Done > 0)
                perOp = (double) t.Bytes / t.Done;
            return new Dictionary<string, object> {
                { "tag", (int) tag }, { "what", what }, { "sent", t.Done }, { "seconds", secs },
                { "rate", secs > 0 ? t.Done / secs : 0.0 }, { "alloc_per_op", perOp } };
        }

        // Nearest rank, in microseconds; null percentiles without samples.
        static Dictionary<string, object> Percentiles (long[] ticks)
        {
            int n = ticks.Length;
            if (n == 0)
                return new Dictionary<string, object> { { "n", 0 }, { "p50", null }, { "p99", null } };
            var sorted = (long[]) ticks.Clone ();
            Array.Sort (sorted);
            double us = 1e6 / Stopwatch.Frequency;
            return new Dictionary<string, object> { { "n", n },
                { "p50", sorted [(50 * n + 99) / 100 - 1] * us }, { "p99", sorted [(99 * n + 99) / 100 - 1] * us } };
        }
    }
}
