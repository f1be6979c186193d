// The adapter's side of the protocol framing: the one writer of standard
// output, the typed readers of request arguments, and the mapping of a .NET
// exception to the protocol's error object.
using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace Apmsock.CSharp
{
    // The request is malformed: the harness's fault, never Mono's.
    sealed class ProtocolError : Exception
    {
        public ProtocolError (string message) : base (message) { }
    }

    // The request is well formed but needs something this adapter cannot do.
    sealed class Unsupported : Exception
    {
        public Unsupported (string message) : base (message) { }
    }

    // Mono's API threw: carries the exception untouched so that the reply
    // reports exactly what the implementation did.
    sealed class ImplFault : Exception
    {
        public readonly Exception Thrown;
        public ImplFault (Exception thrown) : base (thrown.Message) { Thrown = thrown; }
    }

    static class Output
    {
        static readonly object gate = new object ();
        static Stream stdout;
        static long callbackSeq;

        public static void Init ()
        {
            stdout = Console.OpenStandardOutput ();
            // Anything in Mono or in this program that writes to Console.Out
            // would corrupt the protocol stream: send it to stderr instead.
            Console.SetOut (Console.Error);
        }

        static void WriteLocked (Dictionary<string, object> obj)
        {
            byte[] bytes = Encoding.ASCII.GetBytes (Json.Write (obj) + "\n");
            stdout.Write (bytes, 0, bytes.Length);
            stdout.Flush ();
        }

        public static void Line (Dictionary<string, object> obj)
        {
            lock (gate)
                WriteLocked (obj);
        }

        // seq is given under the writer's lock so that the numbers follow the
        // order of the lines on the wire.
        public static void Callback (Dictionary<string, object> ev)
        {
            lock (gate) {
                ev ["seq"] = ++callbackSeq;
                WriteLocked (ev);
            }
        }

        public static void Log (string message)
        {
            Line (new Dictionary<string, object> { { "event", "log" }, { "message", message } });
        }
    }

    static class Args
    {
        public static bool Has (Dictionary<string, object> a, string key)
        {
            return a.ContainsKey (key);
        }

        static object Get (Dictionary<string, object> a, string key)
        {
            object v;
            if (!a.TryGetValue (key, out v))
                throw new ProtocolError ("missing argument \"" + key + "\"");
            return v;
        }

        public static string Str (Dictionary<string, object> a, string key)
        {
            var s = Get (a, key) as string;
            if (s == null)
                throw new ProtocolError ("argument \"" + key + "\" must be a string");
            return s;
        }

        public static string StrOrNull (Dictionary<string, object> a, string key)
        {
            object v = Get (a, key);
            if (v != null && !(v is string))
                throw new ProtocolError ("argument \"" + key + "\" must be a string or null");
            return (string) v;
        }

        public static long Long (Dictionary<string, object> a, string key)
        {
            object v = Get (a, key);
            if (!(v is long))
                throw new ProtocolError ("argument \"" + key + "\" must be an integer");
            return (long) v;
        }

        public static int Int (Dictionary<string, object> a, string key)
        {
            long v = Long (a, key);
            if (v < int.MinValue || v > int.MaxValue)
                throw new ProtocolError ("argument \"" + key + "\" does not fit a 32-bit int");
            return (int) v;
        }

        public static bool Bool (Dictionary<string, object> a, string key, bool dflt)
        {
            object v;
            if (!a.TryGetValue (key, out v))
                return dflt;
            if (!(v is bool))
                throw new ProtocolError ("argument \"" + key + "\" must be a boolean");
            return (bool) v;
        }

        public static Dictionary<string, object> Obj (object v, string what)
        {
            var d = v as Dictionary<string, object>;
            if (d == null)
                throw new ProtocolError (what + " must be an object");
            return d;
        }

        // An endpoint argument; null stays null (the .NET null EndPoint).
        public static IPEndPoint EndPoint (Dictionary<string, object> a, string key)
        {
            object v = Get (a, key);
            if (v == null)
                return null;
            var ep = Obj (v, "argument \"" + key + "\"");
            string addr = Str (ep, "address");
            long port = Long (ep, "port");
            IPAddress ip;
            if (!IPAddress.TryParse (addr, out ip))
                throw new ProtocolError ("\"" + addr + "\" is not an IP address");
            if (port < 0 || port > 65535)
                throw new ProtocolError ("port " + port + " is out of range");
            return new IPEndPoint (ip, (int) port);
        }

        // A remoteEP for BeginSendTo/SendTo: as EndPoint, or (protocol 1.1,
        // capability dns_endpoint) {"host", "port"}, a DnsEndPoint.
        public static EndPoint RemoteEndPoint (Dictionary<string, object> a, string key)
        {
            object v = Get (a, key);
            var ep = v as Dictionary<string, object>;
            if (ep != null && ep.ContainsKey ("host")) {
                long port = Long (ep, "port");
                if (port < 0 || port > 65535)
                    throw new ProtocolError ("port " + port + " is out of range");
                return new DnsEndPoint (Str (ep, "host"), (int) port);
            }
            return EndPoint (a, key);
        }

        // Large enough for the multi-MiB stream cases, small enough that a
        // typo cannot exhaust the adapter's memory.
        const long MaxBuffer = 256L * 1024 * 1024;

        public static byte[] Buffer (Dictionary<string, object> a, string key)
        {
            object v = Get (a, key);
            if (v == null)
                return null;
            var b = Obj (v, "argument \"" + key + "\"");
            if (b.Count != 1)
                throw new ProtocolError ("a buffer has exactly one of hex, text, pattern");
            if (b.ContainsKey ("hex"))
                return Hex (Str (b, "hex"));
            if (b.ContainsKey ("text")) {
                string t = Str (b, "text");
                var bytes = new byte [t.Length];
                for (int i = 0; i < t.Length; i++) {
                    if (t [i] > 0x7f)
                        throw new ProtocolError ("buffer text is not ASCII");
                    bytes [i] = (byte) t [i];
                }
                return bytes;
            }
            if (b.ContainsKey ("pattern")) {
                var p = Obj (b ["pattern"], "pattern");
                long len = Long (p, "length");
                long seed = Long (p, "seed");
                if (len < 0 || len > MaxBuffer)
                    throw new ProtocolError ("pattern length " + len + " is out of range 0.." + MaxBuffer);
                var bytes = new byte [len];
                long s = ((seed % 251) + 251) % 251;
                for (long i = 0; i < len; i++)
                    bytes [i] = (byte) ((s + i) % 251);
                return bytes;
            }
            throw new ProtocolError ("a buffer has exactly one of hex, text, pattern");
        }

        static byte[] Hex (string h)
        {
            if (h.Length % 2 != 0)
                throw new ProtocolError ("hex buffer has an odd number of digits");
            var bytes = new byte [h.Length / 2];
            for (int i = 0; i < bytes.Length; i++)
                bytes [i] = (byte) (Nibble (h [2 * i]) << 4 | Nibble (h [2 * i + 1]));
            return bytes;
        }

        static int Nibble (char c)
        {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            throw new ProtocolError ("'" + c + "' is not a hex digit");
        }
    }

    static class Errors
    {
        // The protocol's error object for an exception the runtime threw;
        // "errno" is what the runtime keeps of the native error (Runtime.cs).
        public static Dictionary<string, object> Of (Exception e)
        {
            var ae = e as ArgumentException;
            var se = e as SocketException;
            return new Dictionary<string, object> {
                { "type", e.GetType ().FullName },
                { "param", ae != null ? ae.ParamName : null },
                { "socket_error", se != null ? se.SocketErrorCode.ToString () : null },
                { "socket_error_code", se != null ? (object) (int) se.SocketErrorCode : null },
                { "errno", se != null ? Runtime.Errno (se) : null },
                { "message", e.Message ?? "" },
            };
        }
    }

    static class Ident
    {
        public static string Current ()
        {
            return "managed:" + Thread.CurrentThread.ManagedThreadId;
        }
    }
}
