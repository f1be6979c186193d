// apmsock adapter for the System.Net.Sockets.Socket of Mono or .NET: reads protocol
// requests (harness/PROTOCOL.md) from stdin, hands each to the thread it
// names, and lets Ops carry it out on the real Socket class.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;

namespace Apmsock.CSharp
{
    static class Adapter
    {
        public const string Protocol = "1.1";

        static Worker main;
        static readonly Dictionary<string, Worker> threads = new Dictionary<string, Worker> ();
        static readonly HashSet<long> seenIds = new HashSet<long> ();
        static int quitting;

        static int Main (string[] argv)
        {
            Output.Init ();
            AppDomain.CurrentDomain.UnhandledException += (s, e) =>
                Console.Error.WriteLine (Runtime.Program + ": unhandled: " + e.ExceptionObject);
            main = new Worker ("main");
            var reader = new Thread (ReadLoop);
            reader.IsBackground = true;
            reader.Name = "apmsock-reader";
            reader.Start ();
            main.RunHere ();
            return 0;
        }

        static void ReadLoop ()
        {
            var input = new StreamReader (Console.OpenStandardInput (), new UTF8Encoding (false));
            string line;
            try {
                while ((line = input.ReadLine ()) != null) {
                    if (line.Trim ().Length == 0)
                        continue;
                    if (Dispatch (line))
                        return;
                }
            } catch (Exception e) {
                Console.Error.WriteLine (Runtime.Program + ": reading stdin: " + e);
            }
            // End of input is an implicit quit.
            Quit (null);
        }

        // Parses one line and queues it; true once `quit` has been queued.
        static bool Dispatch (string line)
        {
            Dictionary<string, object> req;
            long id;
            try {
                req = Args.Obj (Json.Parse (line), "a request");
            } catch (Exception e) {
                ReplyProtocolError (null, "not a JSON object: " + e.Message);
                return false;
            }
            object idv;
            if (!req.TryGetValue ("id", out idv) || !(idv is long) || (long) idv <= 0) {
                // Echo the id only when it is an integer: a made-up one
                // would be a reply to an unknown id.
                ReplyProtocolError (idv is long ? (long?) (long) idv : null, "\"id\" must be a positive integer");
                return false;
            }
            id = (long) idv;
            lock (seenIds) {
                if (!seenIds.Add (id)) {
                    ReplyProtocolError (id, "id " + id + " was already used in this session");
                    return false;
                }
            }
            string op = null;
            Dictionary<string, object> args;
            Worker target;
            try {
                op = req.ContainsKey ("op") ? req ["op"] as string : null;
                if (op == null)
                    throw new ProtocolError ("\"op\" must be a string");
                object a;
                if (!req.TryGetValue ("args", out a) || a == null)
                    args = new Dictionary<string, object> ();
                else
                    args = Args.Obj (a, "\"args\"");
                target = Target (req);
            } catch (ProtocolError pe) {
                ReplyProtocolError (id, pe.Message);
                return false;
            }
            if (op == "release_latch") {
                // Run here, never queued: the callback it releases may hold
                // the very worker it would be queued to (a callback run
                // inline inside Begin).
                Dictionary<string, object> body = Body (op, args);
                body ["id"] = id;
                Output.Line (body);
                return false;
            }
            if (op == "quit") {
                Quit (id);
                return true;
            }
            if (!target.Post (() => Execute (id, op, args)))
                ReplyProtocolError (id, "thread " + target.Name + " has exited");
            return false;
        }

        static Worker Target (Dictionary<string, object> req)
        {
            object t;
            if (!req.TryGetValue ("thread", out t) || t == null)
                return main;
            var name = t as string;
            if (name == null)
                throw new ProtocolError ("\"thread\" must be a string");
            lock (threads) {
                Worker w;
                if (!threads.TryGetValue (name, out w))
                    throw new ProtocolError ("unknown thread \"" + name + "\"");
                return w;
            }
        }

        static void Execute (long id, string op, Dictionary<string, object> args)
        {
            if (op == "thread_exit") {
                // Replied later, once the thread has ended.
                try {
                    ThreadExit (id, args);
                } catch (ProtocolError pe) {
                    ReplyProtocolError (id, pe.Message);
                }
                return;
            }
            Dictionary<string, object> body = Body (op, args);
            body ["id"] = id;
            Output.Line (body);
        }

        // One request carried out: its reply without the id.  Used for the
        // requests of the protocol and for the steps of a callback_script.
        public static Dictionary<string, object> Body (string op, Dictionary<string, object> args)
        {
            try {
                return new Dictionary<string, object> { { "ok", true }, { "result", Run (op, args) } };
            } catch (ProtocolError pe) {
                return new Dictionary<string, object> { { "ok", false }, { "protocol_error", pe.Message } };
            } catch (Unsupported u) {
                return new Dictionary<string, object> { { "ok", false }, { "unsupported", u.Message } };
            } catch (ImplFault f) {
                return new Dictionary<string, object> { { "ok", false }, { "error", Errors.Of (f.Thrown) } };
            } catch (Exception e) {
                // Not thrown by the runtime's API (those are wrapped in
                // ImplFault): a request the adapter could not make sense of.
                Console.Error.WriteLine (Runtime.Program + ": " + op + ": " + e);
                return new Dictionary<string, object> { { "ok", false },
                    { "protocol_error", "adapter could not carry out the request: " + e.GetType ().Name + ": " + e.Message } };
            }
        }

        public static void Reply (long id, Dictionary<string, object> result)
        {
            Output.Line (new Dictionary<string, object> { { "id", id }, { "ok", true }, { "result", result } });
        }

        static void ReplyProtocolError (long? id, string why)
        {
            Output.Line (new Dictionary<string, object> {
                { "id", id.HasValue ? (object) id.Value : null }, { "ok", false }, { "protocol_error", why } });
        }

        static Dictionary<string, object> Run (string op, Dictionary<string, object> a)
        {
            switch (op) {
            case "hello": return Hello (a);
            case "thread_start": return ThreadStart ();
            case "release_latch": return Latches.Release (a);
            case "trace":
                throw new Unsupported (Runtime.NoTrace);
            case "stats":
                throw new Unsupported (Runtime.NoStats);
            case "policy":
                throw new Unsupported (Runtime.NoPolicy);
            default:
                return Ops.Run (op, a);
            }
        }

        static Dictionary<string, object> Hello (Dictionary<string, object> a)
        {
            // Any requested version is answered with ours: the harness
            // compares the majors and decides.
            Args.Str (a, "protocol");
            return new Dictionary<string, object> {
                { "implementation", Runtime.Name },
                { "version", Runtime.Version () },
                { "runtime", Runtime.Description () },
                { "protocol", Protocol },
                { "contract", "1.0" },
                { "capabilities", Capabilities () },
                { "thread", main.Identity },
            };
        }

        static List<object> Capabilities ()
        {
            var caps = new List<object> { "udp", "tcp", "ipv4" };
            if (System.Net.Sockets.Socket.OSSupportsIPv6) {
                caps.Add ("ipv6");
                caps.Add ("dual_mode");
            }
            caps.AddRange (new object[] { "broadcast", "blocking", "send_buffer", "begin_connect", "begin_accept", "threads",
                "callback_script", "hold", "pipelining", "sync_send", "dns_endpoint", "connected", "bench" });
            return caps;
        }

        static int threadCounter;

        static Dictionary<string, object> ThreadStart ()
        {
            var w = new Worker ("t" + Interlocked.Increment (ref threadCounter));
            w.Start ();
            lock (threads)
                threads [w.Name] = w;
            return new Dictionary<string, object> { { "thread", w.Name }, { "identity", w.Identity } };
        }

        // The reply waits for the thread to end; a helper thread does the
        // waiting so that the requesting thread's later requests are not held
        // up by a worker still blocked in a call.
        static Dictionary<string, object> ThreadExit (long id, Dictionary<string, object> a)
        {
            string name = Args.Str (a, "thread");
            Worker w;
            lock (threads) {
                if (!threads.TryGetValue (name, out w))
                    throw new ProtocolError ("unknown thread \"" + name + "\"");
            }
            if (w.Thread == Thread.CurrentThread)
                throw new ProtocolError ("a thread cannot wait for its own exit");
            if (!w.Stop ())
                throw new ProtocolError ("thread \"" + name + "\" was already told to exit");
            var joiner = new Thread (() => {
                w.Thread.Join ();
                Reply (id, new Dictionary<string, object> ());
            });
            joiner.IsBackground = true;
            joiner.Start ();
            return null;
        }

        // quit and end of input: the main thread finishes what was queued to
        // it, answers, closes every socket and the process exits 0.  A main
        // thread stuck in a blocking call would never get there, so a
        // watchdog closes the sockets (which ends such calls) and exits.
        static void Quit (long? id)
        {
            if (Interlocked.Exchange (ref quitting, 1) != 0)
                return;
            bool posted = main.Post (() => {
                ReplyQuit (id);
                Ops.CloseAll ();
                Environment.Exit (0);
            });
            if (!posted)
                Environment.Exit (0);
            var watchdog = new Thread (() => {
                Thread.Sleep (5000);
                Console.Error.WriteLine (Runtime.Program + ": main thread busy at quit; closing sockets");
                Ops.CloseAll ();
                Thread.Sleep (2000);
                ReplyQuit (id);
                Environment.Exit (0);
            });
            watchdog.IsBackground = true;
            watchdog.Start ();
        }

        static int quitReplied;

        static void ReplyQuit (long? id)
        {
            if (id.HasValue && Interlocked.Exchange (ref quitReplied, 1) == 0)
                Reply (id.Value, new Dictionary<string, object> ());
        }
    }
}
