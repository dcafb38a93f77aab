using System.Runtime.ExceptionServices;

namespace Jepa.Runtime.Data;

/// <summary>
/// Fills the batches <c>[first, end)</c> of an epoch on worker threads, at most <c>depth</c> batches ahead of the
/// consumer, who takes them in order with <see cref="Take"/> and hands each back with <see cref="Release"/>. A batch is a
/// plain byte array (the workers never touch a tensor). A worker's exception is rethrown by <see cref="Take"/> of its
/// batch; <see cref="Dispose"/> stops the workers (a batch being filled is finished first) and waits for them.
/// <para>
/// The workers allocate no managed memory once started: the <c>depth</c> buffers are made by the consumer, here, and
/// reused round the ring, and the hand-over is a monitor on one lock. A worker that allocates can start a garbage
/// collection while the training thread is inside a libtorch call, and TorchSharp 0.107 does not keep the Scalars it
/// makes from .NET numbers (<c>t * 0.5</c>, <c>t.square()</c>, inside its optimizers) alive during such calls: the
/// collection frees one in use and libtorch fails with "Unknown scalar type" or "Expected false to be true ... toDouble"
/// (TorchSharp PRs #1434 and #1496, open; docs/runtime-training.md, "Other threads"). Sources that decode files when
/// their samples do not fit the cache still allocate while decoding; in-memory sources and cached files do not.
/// </para>
/// </summary>
internal sealed class BatchPrefetcher : IDisposable
{
    private readonly Func<long, int> bytesOf;
    private readonly Action<long, byte[]> fill;
    private readonly long first;
    private readonly long end;
    private readonly Slot[] ring;
    private readonly Thread[] workers;
    private readonly object gate = new();
    private readonly long[] workerAllocations;
    private long nextToFill;
    private long nextToTake;
    private bool stopping;

    /// <param name="first">The first batch to fill.</param>
    /// <param name="end">One past the last batch.</param>
    /// <param name="workerCount">Worker threads.</param>
    /// <param name="depth">Batches filled or being filled that the consumer has not released yet, at most.</param>
    /// <param name="bytesOf">The size of a batch's array; the largest is that of <paramref name="first"/>.</param>
    /// <param name="fill">Writes batch b into the array (called on a worker thread).</param>
    public BatchPrefetcher(long first, long end, int workerCount, int depth, Func<long, int> bytesOf, Action<long, byte[]> fill)
    {
        this.first = first;
        this.end = end;
        this.bytesOf = bytesOf;
        this.fill = fill;
        nextToFill = nextToTake = first;
        var size = first < end ? bytesOf(first) : 0;
        ring = new Slot[(int)Math.Clamp(end - first, 1, Math.Max(1, depth))];
        for (var i = 0; i < ring.Length; i++) ring[i] = new Slot(new byte[size]);
        workers = new Thread[Math.Max(1, workerCount)];
        workerAllocations = new long[workers.Length];
        for (var i = 0; i < workers.Length; i++)
        {
            var index = i;
            workers[i] = new Thread(() => Work(index)) { IsBackground = true, Name = $"jepa-data-{i}" };
            workers[i].Start();
        }
    }

    /// <summary>Managed bytes the workers allocated while filling and handing over batches (0 unless a source allocates).</summary>
    public long WorkerAllocatedBytes
    {
        get
        {
            lock (gate) return workerAllocations.Sum();
        }
    }

    /// <summary>
    /// Batch <paramref name="batch"/> (the next one in order), waiting for a worker to fill it: the slot's array and the
    /// number of its bytes that hold the batch (the last batch of an epoch may be shorter). Valid until <see cref="Release"/>.
    /// </summary>
    public (byte[] Buffer, int Length) Take(long batch)
    {
        var slot = ring[SlotOf(batch)];
        lock (gate)
        {
            if (batch != nextToTake) throw new InvalidOperationException($"Batch {batch} taken out of order (expected {nextToTake}).");
            while (slot.Batch != batch || !slot.Filled) Monitor.Wait(gate);
        }
        if (slot.Error is { } error)
        {
            Release(batch);
            ExceptionDispatchInfo.Throw(error);
        }
        return (slot.Buffer, bytesOf(batch));
    }

    /// <summary>The consumer is done with batch <paramref name="batch"/>'s array: its slot takes a later batch.</summary>
    public void Release(long batch)
    {
        lock (gate)
        {
            if (batch != nextToTake) throw new InvalidOperationException($"Batch {batch} released out of order (expected {nextToTake}).");
            nextToTake++;
            Monitor.PulseAll(gate);
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            stopping = true;
            Monitor.PulseAll(gate);
        }
        foreach (var worker in workers) worker.Join();
    }

    private int SlotOf(long batch) => (int)((batch - first) % ring.Length);

    private void Work(int index)
    {
        var start = GC.GetAllocatedBytesForCurrentThread();
        while (true)
        {
            long batch;
            Slot slot;
            lock (gate)
            {
                workerAllocations[index] = GC.GetAllocatedBytesForCurrentThread() - start;
                // The next batch's slot is free once the consumer released the batch that used it, depth batches back.
                while (!stopping && nextToFill < end && nextToFill - nextToTake >= ring.Length) Monitor.Wait(gate);
                if (stopping || nextToFill >= end) return;
                batch = nextToFill++;
                slot = ring[SlotOf(batch)];
                slot.Batch = batch;
                slot.Filled = false;
                slot.Error = null;
            }
            Exception? error = null;
            try
            {
                fill(batch, slot.Buffer);
            }
            catch (Exception e)
            {
                error = e;
            }
            lock (gate)
            {
                slot.Error = error;
                slot.Filled = true;
                Monitor.PulseAll(gate);
            }
        }
    }

    private sealed class Slot(byte[] buffer)
    {
        public byte[] Buffer { get; } = buffer;
        public long Batch { get; set; } = -1;
        public bool Filled { get; set; }
        public Exception? Error { get; set; }
    }
}
