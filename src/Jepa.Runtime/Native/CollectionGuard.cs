using System.Runtime;

namespace Jepa.Runtime.Native;

/// <summary>
/// Keeps garbage collections from starting while TorchSharp calls are in flight. TorchSharp 0.107 turns a .NET number
/// into a finalizable <c>Scalar</c> wherever an operation takes one (inside its own methods too) and passes only its
/// handle to libtorch; a collection started by another thread during the call can finalize the Scalar and free the
/// number in use ("Unknown scalar type"; docs/runtime-training.md, "Other threads"). Inside a no-GC region
/// (<see cref="GC.TryStartNoGCRegion(long)"/>) no collection starts at all, whichever thread allocates, until the
/// region's budget is spent, so no Scalar made in the region can be finalized before the region ends.
/// <para>
/// The trainer and the evaluation hold the guard (<see cref="Enter"/>) and call <see cref="SafePoint"/> where no
/// TorchSharp call is in flight on any thread: before each training step, each batch they embed, each iteration of a
/// probe's fit. A safe point starts a region when none is running, or a new one once half the budget has been
/// allocated or when a region was lost (another thread allocated past the budget, or something called
/// <see cref="GC.Collect()"/>): the collection that starting a region makes runs there, on the calling thread, when it
/// is harmless. Nested holds share one region; a region the caller started itself is left alone.
/// </para>
/// </summary>
public static class CollectionGuard
{
    /// <summary>
    /// The bytes every thread together may allocate in one region before a collection ends it. 16 MiB was the fastest
    /// of 8, 16, 32, 64 and 256 on the Digits example (docs/runtime-training.md, "Other threads"); a safe point starts a
    /// new region at half of it.
    /// </summary>
    public const long Budget = 16L << 20;

    private static readonly Lock Sync = new();
    private static int depth;
    private static bool owns;                                   // the running region is this guard's
    private static long startedAt;                              // GC.GetTotalAllocatedBytes when it started

    /// <summary>Regions started, in this process.</summary>
    public static int Started { get; private set; }

    /// <summary>Regions that ended before a safe point ended them (a collection ran inside): the unguarded moments.</summary>
    public static int Lost { get; private set; }

    /// <summary>True while a hold is open and its region is running.</summary>
    public static bool Active
    {
        get
        {
            lock (Sync) return owns && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;
        }
    }

    /// <summary>Holds the guard until the returned object is disposed, starting a region now.</summary>
    public static IDisposable Enter()
    {
        lock (Sync) depth++;
        SafePoint();
        return new Hold();
    }

    /// <summary>
    /// Call where no TorchSharp call is in flight on any thread. Under a hold: starts a region if none is running,
    /// or a new one once half the budget is spent; does nothing without a hold.
    /// </summary>
    public static void SafePoint() => Restart(collect: false);

    /// <summary>
    /// Call where no TorchSharp call is in flight on any thread, between phases that free much: under a hold, ends the
    /// region, collects and runs the pending finalizers (the native memory of tensors left to the finalizer), and starts
    /// a new region; without a hold, does nothing.
    /// </summary>
    public static void Collect() => Restart(collect: true);

    private static void Restart(bool collect)
    {
        lock (Sync)
        {
            if (depth == 0) return;
            var running = GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;
            if (running && !owns) return;                                               // the caller's own region
            if (running && !collect && GC.GetTotalAllocatedBytes() - startedAt < Budget / 2) return;
            if (running) End();
            else if (owns) Lost++;
            if (collect)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            owns = Start();
        }
    }

    private static bool Start()
    {
        try
        {
            if (!GC.TryStartNoGCRegion(Budget)) return false;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
        {
            return false;                                                               // a region already, or too large here
        }
        startedAt = GC.GetTotalAllocatedBytes();
        Started++;
        return true;
    }

    private static void End()
    {
        try
        {
            GC.EndNoGCRegion();
        }
        catch (InvalidOperationException)
        {
            Lost++;                                                                     // a collection ran inside it
        }
    }

    private sealed class Hold : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            lock (Sync)
            {
                if (disposed) return;
                disposed = true;
                if (--depth > 0) return;
                if (owns)
                {
                    if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) End();
                    else Lost++;
                }
                owns = false;
            }
        }
    }
}
