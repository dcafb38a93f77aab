using System.Collections.Concurrent;

namespace Jepa.Runtime.Data;

/// <summary>
/// Fills the batches <c>[first, end)</c> of an epoch on worker threads, at most <c>depth</c> batches ahead of the
/// consumer, who takes them in order with <see cref="Take"/>. A batch is a plain byte array (the workers never touch
/// a tensor). A worker's exception is rethrown by <see cref="Take"/> of its batch; <see cref="Dispose"/> stops the
/// workers (a batch being filled is finished first) and waits for them.
/// </summary>
internal sealed class BatchPrefetcher : IDisposable
{
    private readonly Func<long, int> bytesOf;
    private readonly Action<long, byte[]> fill;
    private readonly long end;
    private readonly SemaphoreSlim room;
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource<byte[]>> slots = new();
    private readonly ConcurrentBag<byte[]> spare = [];
    private readonly Thread[] workers;
    private long next;

    /// <param name="first">The first batch to fill.</param>
    /// <param name="end">One past the last batch.</param>
    /// <param name="workerCount">Worker threads.</param>
    /// <param name="depth">Batches filled or being filled that the consumer has not taken yet, at most.</param>
    /// <param name="bytesOf">The size of a batch's array.</param>
    /// <param name="fill">Writes batch b into the array (called on a worker thread).</param>
    public BatchPrefetcher(long first, long end, int workerCount, int depth, Func<long, int> bytesOf, Action<long, byte[]> fill)
    {
        this.end = end;
        this.bytesOf = bytesOf;
        this.fill = fill;
        next = first;
        room = new SemaphoreSlim(Math.Max(1, depth));
        workers = new Thread[Math.Max(1, workerCount)];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = new Thread(Work) { IsBackground = true, Name = $"jepa-data-{i}" };
            workers[i].Start();
        }
    }

    /// <summary>Batch <paramref name="batch"/>, waiting for a worker to fill it; the caller gives the array back with <see cref="Return"/>.</summary>
    public byte[] Take(long batch)
    {
        var slot = Slot(batch);
        try
        {
            return slot.Task.GetAwaiter().GetResult();
        }
        finally
        {
            slots.TryRemove(batch, out _);
            room.Release();
        }
    }

    /// <summary>An array from <see cref="Take"/> that the consumer no longer needs, for a later batch.</summary>
    public void Return(byte[] buffer) => spare.Add(buffer);

    public void Dispose()
    {
        stop.Cancel();
        foreach (var worker in workers) worker.Join();
        room.Dispose();
        stop.Dispose();
    }

    private void Work()
    {
        try
        {
            while (true)
            {
                room.Wait(stop.Token);
                var batch = Interlocked.Increment(ref next) - 1;
                if (batch >= end) return;
                var slot = Slot(batch);
                try
                {
                    var size = bytesOf(batch);
                    var buffer = spare.TryTake(out var reused) && reused.Length == size ? reused : new byte[size];
                    fill(batch, buffer);
                    slot.TrySetResult(buffer);
                }
                catch (Exception e)
                {
                    slot.TrySetException(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed: the consumer needs no more batches.
        }
    }

    /// <summary>
    /// The completion of batch <paramref name="batch"/>. Its only waiter is the consumer blocked in <see cref="Take"/>, so
    /// the worker wakes it directly (a continuation run asynchronously would wait for a thread-pool thread first).
    /// </summary>
    private TaskCompletionSource<byte[]> Slot(long batch) => slots.GetOrAdd(batch, _ => new TaskCompletionSource<byte[]>());
}
