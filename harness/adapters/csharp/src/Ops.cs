// The socket operations of the protocol, each a thin call of the real
// System.Net.Sockets.Socket member: validate the request (ProtocolError),
// then delegate to Mono inside Call (anything Mono throws is an ImplFault,
// reported untouched).
using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace Apmsock.CSharp
{
    sealed class ResultEntry
    {
        public string Name;
        public IAsyncResult Ar;
        public bool Released;
    }

    static class Ops
    {
        static readonly object gate = new object ();
        static readonly Dictionary<string, Socket> sockets = new Dictionary<string, Socket> ();
        static readonly Dictionary<string, ResultEntry> results = new Dictionary<string, ResultEntry> ();
        static int socketCounter, resultCounter;

        delegate Dictionary<string, object> Handler (Dictionary<string, object> a);

        static readonly Dictionary<string, Handler> table = new Dictionary<string, Handler> {
            { "socket", NewSocket },
            { "bind", Bind },
            { "connect", Connect },
            { "listen", Listen },
            { "accept", Accept },
            { "set_option", SetOption },
            { "get_option", GetOption },
            { "local_endpoint", a => EndPointOf (a, s => s.LocalEndPoint) },
            { "remote_endpoint", a => EndPointOf (a, s => s.RemoteEndPoint) },
            { "shutdown", Shutdown },
            { "close", Close },
            { "begin_send", a => Begin (a, false) },
            { "begin_send_to", a => Begin (a, true) },
            { "end_send", a => End (a, false) },
            { "end_send_to", a => End (a, true) },
            { "status", Status },
            { "wait", Wait },
            { "release", Release },
            { "connected", Connected },
            { "send", a => SyncSend (a, false) },
            { "send_to", a => SyncSend (a, true) },
            { "bench", Bench.Run },
        };

        public static Dictionary<string, object> Run (string op, Dictionary<string, object> a)
        {
            Handler h;
            if (!table.TryGetValue (op, out h))
                throw new ProtocolError ("unknown op \"" + op + "\"");
            return h (a);
        }

        static T Call<T> (Func<T> f)
        {
            try {
                return f ();
            } catch (Exception e) {
                throw new ImplFault (e);
            }
        }

        static void Call (Action f)
        {
            try {
                f ();
            } catch (Exception e) {
                throw new ImplFault (e);
            }
        }

        static Dictionary<string, object> Empty ()
        {
            return new Dictionary<string, object> ();
        }

        static string AddSocket (Socket s)
        {
            lock (gate) {
                string name = "s" + (++socketCounter);
                sockets [name] = s;
                return name;
            }
        }

        static Socket SocketArg (Dictionary<string, object> a)
        {
            string name = Args.Str (a, "socket");
            lock (gate) {
                Socket s;
                if (!sockets.TryGetValue (name, out s))
                    throw new ProtocolError ("unknown socket \"" + name + "\"");
                return s;
            }
        }

        // null is the .NET null IAsyncResult (END-01); a name never issued,
        // or released, is the harness's mistake.
        static IAsyncResult ResultArg (Dictionary<string, object> a)
        {
            string name = Args.StrOrNull (a, "result");
            if (name == null)
                return null;
            lock (gate) {
                ResultEntry r;
                if (!results.TryGetValue (name, out r))
                    throw new ProtocolError ("unknown result \"" + name + "\"");
                if (r.Released)
                    throw new ProtocolError ("result \"" + name + "\" was released");
                return r.Ar;
            }
        }

        static ResultEntry ResultEntryArg (Dictionary<string, object> a)
        {
            string name = Args.Str (a, "result");
            lock (gate) {
                ResultEntry r;
                if (!results.TryGetValue (name, out r))
                    throw new ProtocolError ("unknown result \"" + name + "\"");
                if (r.Released)
                    throw new ProtocolError ("result \"" + name + "\" was released");
                return r;
            }
        }

        public static Dictionary<string, object> EndPointJson (EndPoint ep)
        {
            var ip = ep as IPEndPoint;
            if (ip == null)
                return null;
            return new Dictionary<string, object> { { "address", ip.Address.ToString () }, { "port", ip.Port } };
        }

        static Dictionary<string, object> NewSocket (Dictionary<string, object> a)
        {
            string fam = Args.Str (a, "family");
            string type = Args.Str (a, "type");
            AddressFamily af;
            if (fam == "inet") af = AddressFamily.InterNetwork;
            else if (fam == "inet6") af = AddressFamily.InterNetworkV6;
            else throw new ProtocolError ("family must be inet or inet6");
            SocketType st;
            ProtocolType pt;
            if (type == "stream") { st = SocketType.Stream; pt = ProtocolType.Tcp; }
            else if (type == "dgram") { st = SocketType.Dgram; pt = ProtocolType.Udp; }
            else throw new ProtocolError ("type must be stream or dgram");
            Socket s = Call (() => new Socket (af, st, pt));
            return new Dictionary<string, object> { { "socket", AddSocket (s) } };
        }

        static Dictionary<string, object> Bind (Dictionary<string, object> a)
        {
            Socket s = SocketArg (a);
            IPEndPoint ep = Args.EndPoint (a, "endpoint");
            Call (() => s.Bind (ep));
            return Empty ();
        }

        static Dictionary<string, object> Connect (Dictionary<string, object> a)
        {
            Socket s = SocketArg (a);
            IPEndPoint ep = Args.EndPoint (a, "endpoint");
            string how = Args.Has (a, "how") ? Args.Str (a, "how") : "connect";
            if (how == "connect")
                Call (() => s.Connect (ep));
            else if (how == "begin_connect")
                Call (() => s.EndConnect (s.BeginConnect (ep, null, null)));
            else
                throw new ProtocolError ("how must be connect or begin_connect");
            return Empty ();
        }

        static Dictionary<string, object> Listen (Dictionary<string, object> a)
        {
            Socket s = SocketArg (a);
            int backlog = Args.Int (a, "backlog");
            Call (() => s.Listen (backlog));
            return Empty ();
        }

        static Dictionary<string, object> Accept (Dictionary<string, object> a)
        {
            Socket s = SocketArg (a);
            string how = Args.Has (a, "how") ? Args.Str (a, "how") : "accept";
            Socket c;
            if (how == "accept")
                c = Call (() => s.Accept ());
            else if (how == "begin_accept")
                c = Call (() => s.EndAccept (s.BeginAccept (null, null)));
            else
                throw new ProtocolError ("how must be accept or begin_accept");
            return new Dictionary<string, object> { { "socket", AddSocket (c) } };
        }

        static Dictionary<string, object> SetOption (Dictionary<string, object> a)
        {
            Socket s = SocketArg (a);
            string name = Args.Str (a, "name");
            int v = Args.Int (a, "value");
            switch (name) {
            case "broadcast":
                Call (() => s.SetSocketOption (SocketOptionLevel.Socket, SocketOptionName.Broadcast, v));
                break;
            case "send_buffer":
                Call (() => s.SetSocketOption (SocketOptionLevel.Socket, SocketOptionName.SendBuffer, v));
                break;
            case "receive_buffer":
                Call (() => s.SetSocketOption (SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer, v));
                break;
            case "blocking":
                Call (() => s.Blocking = v != 0);
                break;
            case "dual_mode":
                Call (() => s.DualMode = v != 0);
                break;
            case "no_delay":
                Call (() => s.NoDelay = v != 0);
                break;
            default:
                throw new ProtocolError ("unknown option \"" + name + "\"");
            }
            return Empty ();
        }

        static Dictionary<string, object> GetOption (Dictionary<string, object> a)
        {
            Socket s = SocketArg (a);
            string name = Args.Str (a, "name");
            int v;
            switch (name) {
            case "broadcast":
                v = Call (() => (int) s.GetSocketOption (SocketOptionLevel.Socket, SocketOptionName.Broadcast)) != 0 ? 1 : 0;
                break;
            case "send_buffer":
                v = Call (() => (int) s.GetSocketOption (SocketOptionLevel.Socket, SocketOptionName.SendBuffer));
                break;
            case "receive_buffer":
                v = Call (() => (int) s.GetSocketOption (SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer));
                break;
            case "blocking":
                v = Call (() => s.Blocking) ? 1 : 0;
                break;
            case "dual_mode":
                v = Call (() => s.DualMode) ? 1 : 0;
                break;
            case "no_delay":
                v = Call (() => s.NoDelay) ? 1 : 0;
                break;
            default:
                throw new ProtocolError ("unknown option \"" + name + "\"");
            }
            return new Dictionary<string, object> { { "value", v } };
        }

        static Dictionary<string, object> EndPointOf (Dictionary<string, object> a, Func<Socket, EndPoint> get)
        {
            Socket s = SocketArg (a);
            EndPoint ep = Call (() => get (s));
            return new Dictionary<string, object> { { "endpoint", EndPointJson (ep) } };
        }

        static Dictionary<string, object> Shutdown (Dictionary<string, object> a)
        {
            Socket s = SocketArg (a);
            string how = Args.Str (a, "how");
            SocketShutdown sh;
            if (how == "send") sh = SocketShutdown.Send;
            else if (how == "receive") sh = SocketShutdown.Receive;
            else if (how == "both") sh = SocketShutdown.Both;
            else throw new ProtocolError ("how must be send, receive or both");
            Call (() => s.Shutdown (sh));
            return Empty ();
        }

        // The socket's name stays valid: later requests on it are how the
        // harness checks what a closed socket does (ERR-04, END-05).
        static Dictionary<string, object> Close (Dictionary<string, object> a)
        {
            Socket s = SocketArg (a);
            Call (() => s.Close ());
            return Empty ();
        }

        static Dictionary<string, object> Begin (Dictionary<string, object> a, bool sendTo)
        {
            Socket s = SocketArg (a);
            byte[] buf = Args.Buffer (a, "buffer");
            int offset = Args.Int (a, "offset");
            int size = Args.Int (a, "size");
            var flags = (SocketFlags) Args.Int (a, "flags");
            EndPoint ep = sendTo ? Args.RemoteEndPoint (a, "endpoint") : null;
            bool withCallback = Args.Bool (a, "callback", false);
            bool endInCallback = Args.Bool (a, "end_in_callback", false);
            string state = Args.Has (a, "state") ? Args.StrOrNull (a, "state") : null;
            if (endInCallback && !withCallback)
                throw new ProtocolError ("end_in_callback needs callback: true");
            List<object> script = Script.Parse (a, 1);
            Hold hold = Script.ParseHold (a);
            if ((script != null || hold != null) && !withCallback)
                throw new ProtocolError ("callback_script and hold need callback: true");

            // The name exists before Begin runs: Mono may run the callback
            // before Begin returns, and its event must name the result.
            var entry = new ResultEntry ();
            lock (gate)
                entry.Name = "r" + (++resultCounter);
            AsyncCallback cb = null;
            if (withCallback)
                cb = ar => Callbacks.Ran (ar, entry, s, sendTo, endInCallback, hold, script);
            string caller = Ident.Current ();
            IAsyncResult res = Call (() => sendTo
                ? s.BeginSendTo (buf, offset, size, flags, ep, cb, state)
                : s.BeginSend (buf, offset, size, flags, cb, state));
            lock (gate) {
                entry.Ar = res;
                results [entry.Name] = entry;
            }
            bool sync = Call (() => res.CompletedSynchronously);
            return new Dictionary<string, object> {
                { "result", entry.Name }, { "thread", caller }, { "completed_synchronously", sync } };
        }

        // The callback may run (and a script name "$self") before Begin returns.
        public static void Publish (ResultEntry entry, IAsyncResult ar)
        {
            lock (gate) {
                if (entry.Ar == null)
                    entry.Ar = ar;
                results [entry.Name] = entry;
            }
        }

        // Socket.Connected (protocol 1.1, capability connected).
        static Dictionary<string, object> Connected (Dictionary<string, object> a)
        {
            Socket s = SocketArg (a);
            return new Dictionary<string, object> { { "connected", Call (() => s.Connected) } };
        }

        // Socket.Send / Socket.SendTo, the synchronous calls (protocol 1.1).
        static Dictionary<string, object> SyncSend (Dictionary<string, object> a, bool sendTo)
        {
            Socket s = SocketArg (a);
            byte[] buf = Args.Buffer (a, "buffer");
            int offset = Args.Int (a, "offset");
            int size = Args.Int (a, "size");
            var flags = (SocketFlags) Args.Int (a, "flags");
            EndPoint ep = sendTo ? Args.RemoteEndPoint (a, "endpoint") : null;
            int n = Call (() => sendTo ? s.SendTo (buf, offset, size, flags, ep) : s.Send (buf, offset, size, flags));
            return new Dictionary<string, object> { { "bytes", n } };
        }

        static Dictionary<string, object> End (Dictionary<string, object> a, bool sendTo)
        {
            Socket s = SocketArg (a);
            IAsyncResult ar = ResultArg (a);
            int n = Call (() => sendTo ? s.EndSendTo (ar) : s.EndSend (ar));
            return new Dictionary<string, object> { { "bytes", n } };
        }

        static Dictionary<string, object> Status (Dictionary<string, object> a)
        {
            IAsyncResult ar = ResultEntryArg (a).Ar;
            return Call (() => new Dictionary<string, object> {
                { "is_completed", ar.IsCompleted },
                { "completed_synchronously", ar.CompletedSynchronously },
                { "state", ar.AsyncState as string } });
        }

        static Dictionary<string, object> Wait (Dictionary<string, object> a)
        {
            IAsyncResult ar = ResultEntryArg (a).Ar;
            int timeout = Args.Int (a, "timeout_ms");
            bool signaled = Call (() => ar.AsyncWaitHandle.WaitOne (timeout));
            return new Dictionary<string, object> { { "signaled", signaled } };
        }

        static Dictionary<string, object> Release (Dictionary<string, object> a)
        {
            ResultEntry r = ResultEntryArg (a);
            lock (gate) {
                r.Released = true;
                r.Ar = null;
            }
            return Empty ();
        }

        public static void CloseAll ()
        {
            List<Socket> all;
            lock (gate)
                all = new List<Socket> (sockets.Values);
            foreach (Socket s in all) {
                try {
                    s.Close ();
                } catch (Exception e) {
                    Console.Error.WriteLine (Runtime.Program + ": closing at quit: " + e.Message);
                }
            }
        }
    }

    static class Callbacks
    {
        // The AsyncCallback given to Begin: reports where and how it ran and,
        // for end_in_callback, calls End from inside it as the documents tell
        // a callback to.  Nothing may escape: an exception here would end the
        // process from a thread-pool thread.
        public static void Ran (IAsyncResult ar, ResultEntry entry, Socket s, bool sendTo, bool endInCallback,
                                Hold hold, List<object> script)
        {
            string name = entry.Name;
            try {
                string me = Ident.Current ();
                var ev = new Dictionary<string, object> {
                    { "event", "callback" },
                    { "seq", 0 },
                    { "result", name },
                    { "thread", me },
                    { "is_completed", ar.IsCompleted },
                    { "state", ar.AsyncState as string },
                };
                if (hold != null) {
                    Latches.Enter (hold.Latch);
                    Output.Line (new Dictionary<string, object> {
                        { "event", "held" }, { "result", name }, { "latch", hold.Latch }, { "thread", me } });
                    bool released = Latches.Wait (hold.Latch, hold.TimeoutMs);
                    ev ["hold"] = new Dictionary<string, object> {
                        { "latch", hold.Latch }, { "by", released ? "release_latch" : "timeout" } };
                }
                if (endInCallback) {
                    try {
                        int n = sendTo ? s.EndSendTo (ar) : s.EndSend (ar);
                        ev ["end"] = new Dictionary<string, object> { { "ok", true }, { "bytes", n } };
                    } catch (Exception e) {
                        ev ["end"] = new Dictionary<string, object> { { "ok", false }, { "error", Errors.Of (e) } };
                    }
                }
                if (script != null) {
                    Ops.Publish (entry, ar);
                    ev ["script"] = Script.Run (script, name);
                }
                Output.Callback (ev);
            } catch (Exception e) {
                Console.Error.WriteLine (Runtime.Program + ": callback of " + name + ": " + e);
            }
        }
    }
}
