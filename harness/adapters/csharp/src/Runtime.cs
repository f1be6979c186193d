// What differs between the two runtimes this one source is built for, and
// nothing else: the implementation's name and version, the ops the runtime
// offers no hook for, and where a native errno can be read.  Mono (mcs)
// defines no NETCOREAPP; the .NET SDK (adapter.csproj) does.
using System;
using System.Net.Sockets;

namespace Apmsock.CSharp
{
    static class Runtime
    {
#if NETCOREAPP
        public const string Name = "dotnet-System.Net.Sockets";
        public const string Program = "apmsock-dotnet-adapter";

        // "9.0.x" style: the framework's own version, not the SDK's.  The
        // full description (".NET 10.0.1") goes in "runtime".
        public static string Version ()
        {
            return Environment.Version.ToString ();
        }

        public static string Description ()
        {
            return System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;
        }

        // The System.Net.Sockets EventSource (SocketsTelemetry.cs) writes
        // events for Connect and Accept only, plus byte and datagram
        // counters: no record per BeginSend/BeginSendTo with its size and
        // outcome, which is what TRACE-01 asks for.
        public const string NoTrace = ".NET's System.Net.Sockets EventSource (SocketsTelemetry) has Connect/Accept events and byte counters only: no per-send begin/completion record";
        // GC.GetAllocatedBytesForCurrentThread sees the adapter's own JSON
        // work on the same threads, and .NET keeps no context-cache counter.
        public const string NoStats = ".NET exposes no execution-context-cache counter, and its allocation counters (GC.GetAllocatedBytesForCurrentThread) cannot tell the socket's allocations from the adapter's own on the same threads";
        public const string NoPolicy = ".NET (Core) has no code access security: no send-permission hook to drive";

        // On Unix .NET keeps the platform errno in NativeErrorCode
        // (SocketException.Unix.cs), SocketErrorCode is the WSA number.
        public static object Errno (SocketException se)
        {
            return se.NativeErrorCode;
        }
#endif

        // The bytes the calling thread has allocated so far, for the bench
        // op (-1: not countable).  Mono 6.8 and .NET both have this call; it
        // sees the calling thread only.
        public static long AllocatedBytes ()
        {
            return GC.GetAllocatedBytesForCurrentThread ();
        }

#if !NETCOREAPP
        public const string Name = "mono-System.Net.Sockets";
        public const string Program = "apmsock-mono-adapter";

        // Mono.Runtime is internal: its display name is the only place the
        // runtime's own version is kept.
        public static string Version ()
        {
            try {
                var t = Type.GetType ("Mono.Runtime");
                var m = t == null ? null : t.GetMethod ("GetDisplayName",
                    System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static);
                if (m != null) {
                    string s = (string) m.Invoke (null, null);
                    int sp = s.IndexOf (' ');
                    return sp > 0 ? s.Substring (0, sp) : s;
                }
            } catch (Exception) {
            }
            return Environment.Version.ToString ();
        }

        public static string Description ()
        {
            return "Mono " + Version ();
        }

        public const string NoTrace = "Mono's Socket emits no System.Net trace records for BeginSend/BeginSendTo";
        public const string NoStats = "Mono exposes no allocation or context-cache counters";
        public const string NoPolicy = "Mono has no code access security: no send-permission hook to drive";

        // Mono on Linux translates errno to the WSA number inside its runtime
        // and keeps no errno on the exception (NativeErrorCode is the WSA
        // number too): a value guessed back would be the adapter's invention.
        public static object Errno (SocketException se)
        {
            return null;
        }
#endif
    }
}
