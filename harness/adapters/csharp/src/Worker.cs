// A managed thread that runs the requests queued to it, in order.  The main
// executor is one of these run on the program's Main thread; `thread_start`
// makes more, so that an operation can be begun by a thread that later exits
// (the CANCEL clauses).
using System;
using System.Collections.Generic;
using System.Threading;

namespace Apmsock.CSharp
{
    sealed class Worker
    {
        public readonly string Name;
        public string Identity { get; private set; }
        public Thread Thread { get; private set; }

        readonly object gate = new object ();
        readonly Queue<Action> queue = new Queue<Action> ();
        bool stopping;

        public Worker (string name)
        {
            Name = name;
        }

        // Starts a new managed thread and returns once it runs, so that its
        // identity is the one the thread itself reports.
        public void Start ()
        {
            var ready = new ManualResetEvent (false);
            Thread = new Thread (() => {
                Identity = Ident.Current ();
                ready.Set ();
                Run ();
            });
            // Background: a thread stuck in a blocking call must not keep the
            // adapter alive after `quit`.
            Thread.IsBackground = true;
            Thread.Name = "apmsock-" + Name;
            Thread.Start ();
            ready.WaitOne ();
            ready.Close ();
        }

        // Runs the loop on the calling thread (the main executor).
        public void RunHere ()
        {
            Thread = Thread.CurrentThread;
            Identity = Ident.Current ();
            Run ();
        }

        // False when the worker has been told to stop: the request is refused.
        public bool Post (Action a)
        {
            lock (gate) {
                if (stopping)
                    return false;
                queue.Enqueue (a);
                Monitor.Pulse (gate);
                return true;
            }
        }

        // The requests already queued still run; then the thread ends.
        public bool Stop ()
        {
            lock (gate) {
                if (stopping)
                    return false;
                stopping = true;
                queue.Enqueue (null);
                Monitor.Pulse (gate);
                return true;
            }
        }

        public bool Stopping {
            get { lock (gate) return stopping; }
        }

        void Run ()
        {
            for (;;) {
                Action a;
                lock (gate) {
                    while (queue.Count == 0)
                        Monitor.Wait (gate);
                    a = queue.Dequeue ();
                }
                if (a == null)
                    return;
                try {
                    a ();
                } catch (Exception e) {
                    // A request's own handler reports its errors; reaching
                    // here is an adapter bug, and it must not end the thread.
                    Console.Error.WriteLine (Runtime.Program + ": worker " + Name + ": " + e);
                }
            }
        }
    }
}
