using System.Runtime.CompilerServices;
using Jepa.Runtime.Native;
using Jepa.Runtime.Tests.Training;
using Jepa.Runtime.Training;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Native;

/// <summary>
/// <see cref="CollectionGuard"/> with a thread allocating beside TorchSharp calls, as the test host's and a user's own
/// threads do: under a hold, collections start only inside safe points, never between them (where the calls are), and
/// no region is lost. In the trainer's collection, so that no other training runs while it counts collections.
/// </summary>
[Collection(TrainerCollection.Name)]
public class CollectionGuardTests
{
    /// <summary>
    /// A thread allocating 1 KiB arrays until disposed, about 100 MB/s at most (a pause of 1 ms every 100): what starts
    /// collections off the calling thread, at a rate well inside a region's budget between two safe points.
    /// </summary>
    private sealed class Allocator : IDisposable
    {
        private volatile bool stop;
        private readonly Thread thread;

        public Allocator()
        {
            thread = new Thread(() =>
            {
                for (var n = 1; !stop; n++)
                {
                    var block = new byte[1024];
                    GC.KeepAlive(block);
                    if (n % 100 == 0) Thread.Sleep(1);
                }
            }) { IsBackground = true };
            thread.Start();
        }

        public void Dispose()
        {
            stop = true;
            thread.Join();
        }
    }

    [Fact]
    public void Under_a_hold_collections_start_only_at_safe_points()
    {
        using var x = randn(256);
        int between = 0, at = 0;
        var lostBefore = CollectionGuard.Lost;
        using (new Allocator())
        using (CollectionGuard.Enter())
        {
            for (var i = 0; i < 2_000; i++)
            {
                var before = GC.CollectionCount(0);
                CollectionGuard.SafePoint();
                var after = GC.CollectionCount(0);
                at += after - before;
                Assert.True(CollectionGuard.Active);
                for (var j = 0; j < 20; j++)
                {
                    using var scope = NewDisposeScope();
                    _ = (x * 0.5).add(x, alpha: 2.0).clamp(-1.0, 1.0);                    // Scalars made by TorchSharp
                }
                between += GC.CollectionCount(0) - after;
            }
        }
        Assert.False(CollectionGuard.Active);
        Assert.Equal(0, between);
        Assert.True(at > 0, "the allocating thread should have spent a region's budget at least once");
        Assert.Equal(lostBefore, CollectionGuard.Lost);
    }

    [Fact]
    public void Without_a_hold_a_safe_point_does_nothing()
    {
        Assert.False(CollectionGuard.Active);
        var started = CollectionGuard.Started;
        CollectionGuard.SafePoint();
        Assert.False(CollectionGuard.Active);
        Assert.Equal(started, CollectionGuard.Started);
    }

    [Fact]
    public void Nested_holds_share_one_region_which_ends_with_the_outer()
    {
        using (CollectionGuard.Enter())
        {
            var started = CollectionGuard.Started;
            using (CollectionGuard.Enter()) Assert.True(CollectionGuard.Active);
            Assert.True(CollectionGuard.Active);
            Assert.Equal(started, CollectionGuard.Started);
        }
        Assert.False(CollectionGuard.Active);
    }

    private sealed class Finalizable(StrongBox<bool> finalized)
    {
        ~Finalizable() => finalized.Value = true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Drop(StrongBox<bool> finalized) => _ = new Finalizable(finalized);

    /// <summary>Collect, between the evaluation's phases: what only the finalizer frees is freed there, and the region goes on.</summary>
    [Fact]
    public void Collect_runs_the_pending_finalizers_and_keeps_the_region()
    {
        var finalized = new StrongBox<bool>(false);
        using (CollectionGuard.Enter())
        {
            Drop(finalized);
            CollectionGuard.Collect();
            Assert.True(finalized.Value);
            Assert.True(CollectionGuard.Active);
        }
        Assert.False(CollectionGuard.Active);
    }

    /// <summary>The trainer holds the guard through its steps: every step's report (made on the training thread) sees it.</summary>
    [Fact]
    public void The_trainer_trains_under_the_guard_beside_an_allocating_thread()
    {
        var seen = new List<bool>();
        var lostBefore = CollectionGuard.Lost;
        using var e = new TinyJepa();
        using (new Allocator())
            e.Train(TensorData.Random(), new TrainOptions { Steps = 30 }, new Synchronous(_ => seen.Add(CollectionGuard.Active)));
        Assert.Equal(30, seen.Count);
        Assert.All(seen, Assert.True);
        Assert.False(CollectionGuard.Active);
        Assert.Equal(lostBefore, CollectionGuard.Lost);
    }

    private sealed class Synchronous(Action<StepReport> report) : IProgress<StepReport>
    {
        public void Report(StepReport value) => report(value);
    }
}
