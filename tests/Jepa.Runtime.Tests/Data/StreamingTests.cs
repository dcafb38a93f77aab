using Jepa.Runtime.Data;
using Jepa.Runtime.Tests.Training;
using Jepa.Runtime.Training;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Data;

/// <summary>
/// The streaming loader: the same batches as the in-memory data set, whatever the workers and the cache; a resume
/// inside an epoch stays bit-identical; the prefetch queue is bounded; decoded samples are cached only within the budget.
/// </summary>
[Collection(TrainerCollection.Name)]
public sealed class StreamingTests : IDisposable
{
    private const int Images = 100;
    private readonly TempFolder folder = new();

    public StreamingTests()
    {
        // 100 grey 8x4 images in 3 classes, each different.
        for (var i = 0; i < Images; i++)
            TestImages.Write(folder.Path, $"c{i % 3}/{i:D3}.png", TestImages.Png(8, 4, (x, y, c) => (byte)((i * 31 + x * 17 + y * 59) % 256)));
    }

    public void Dispose() => folder.Dispose();

    private LoadedData Open(int workers, long? cache = null, int? prefetch = null) =>
        DataSources.Open([folder.Path], new DataOptions { InputShape = [1, 4, 8], Workers = workers, CacheBytes = cache, Prefetch = prefetch });

    private static TinyOptions Options => TinyOptions.Default with { Input = 8, Steps = 20 };   // 6 batches of 16 per epoch

    private static float[] Flat(IEnumerable<Tensor> batches) => [.. batches.SelectMany(b => { using (b) return b.data<float>().ToArray(); })];

    [Fact]
    public void Streamed_batches_equal_the_in_memory_data_sets_from_any_batch()
    {
        using var data = Open(workers: 3);
        var streaming = Assert.IsType<StreamingDataset>(data.Train);
        using var memory = streaming.ToDataset();
        for (var epoch = 0; epoch < 3; epoch++)
        {
            Assert.Equal(Flat(memory.Batches(16, seed: 5, epoch, startBatch: 2)), Flat(streaming.Batches(16, seed: 5, epoch, startBatch: 2)));
            Assert.Equal(Flat(memory.Batches(7, seed: 5, epoch, dropLast: false)), Flat(streaming.Batches(7, seed: 5, epoch, dropLast: false)));
        }
        Assert.NotEqual(Flat(streaming.Batches(16, seed: 5, 0)), Flat(streaming.Batches(16, seed: 5, 1)));   // each epoch is shuffled anew
    }

    [Fact]
    public void One_and_four_workers_and_the_cache_give_the_same_parameter_digest()
    {
        string Digest(int workers, long? cache)
        {
            using var data = Open(workers, cache);
            using var experiment = new TinyJepa(Options);
            experiment.Train(data.Train, new TrainOptions { Steps = 20 });
            return experiment.ParameterDigest();
        }

        var one = Digest(1, cache: 0);
        Assert.Equal(one, Digest(4, cache: 0));
        Assert.Equal(one, Digest(4, cache: null));
        using var all = Open(2);
        using var memory = all.Train.ToDataset();
        using var inMemory = new TinyJepa(Options);
        inMemory.Train(memory, new TrainOptions { Steps = 20 });
        Assert.Equal(one, inMemory.ParameterDigest());
    }

    [Fact]
    public void A_resume_inside_an_epoch_is_bit_identical()
    {
        const int k = 9;   // inside epoch 1 (6 steps per epoch)
        using var data = Open(workers: 3);
        using var straight = new TinyJepa(Options);
        straight.Train(data.Train, new TrainOptions { Steps = 20 });

        var checkpoint = Path.Combine(folder.Path, "k.ckpt");
        using (var partial = new TinyJepa(Options))
        {
            using var cancel = new CancellationTokenSource();
            partial.Train(data.Train, new TrainOptions { Steps = 20 }, new SyncProgress<StepReport>(r => { if (r.Step == k) cancel.Cancel(); }), cancel.Token);
            Assert.Equal(k, partial.StepsTaken);
            partial.Save(checkpoint);
        }

        using var fresh = Open(workers: 1);
        using var resumed = new TinyJepa(Options);
        resumed.Load(checkpoint);
        resumed.Train(fresh.Train, new TrainOptions { Steps = 20 });
        Assert.Equal(straight.ParameterDigest(), resumed.ParameterDigest());
    }

    [Fact]
    public void Within_the_budget_samples_are_decoded_once_beyond_it_every_epoch()
    {
        using var cached = Open(workers: 2, cache: 1 << 20);
        using var uncached = Open(workers: 2, cache: Images * 32 - 1);   // one byte short of the 100 decoded samples
        Assert.True(((StreamingDataset)cached.Train).Cached);
        Assert.False(((StreamingDataset)uncached.Train).Cached);
        Assert.StartsWith("decoded again every epoch: 3.1 KiB of decoded samples exceed the cache budget of 3.1 KiB", ((StreamingDataset)uncached.Train).Memory);
        var first = Flat(cached.Train.Batches(10, 1, 0));
        Assert.Equal(first, Flat(uncached.Train.Batches(10, 1, 0)));

        foreach (var file in Directory.EnumerateFiles(folder.Path, "*.png", SearchOption.AllDirectories)) File.WriteAllBytes(file, [0]);
        Assert.Equal(Flat(cached.Train.Batches(10, 1, 0)), first);   // no file read again
        var e = Assert.Throws<DataException>(() => Flat(uncached.Train.Batches(10, 1, 0)));
        Assert.EndsWith("cannot be decoded: it is not a complete PNG, JPEG, BMP or WebP image (truncated, damaged, or another format under an image extension).", e.Message);
    }

    [Fact]
    public void The_workers_stay_at_most_the_prefetch_depth_ahead()
    {
        var source = new CountingSource(200, 4);
        var data = new StreamingDataset(new SampleStore(source, 0), [4], null, null, "counting", new DataOptions { InputShape = [4], Workers = 3, Prefetch = 2 });
        using (var batches = data.Batches(5, 1, 0).GetEnumerator())
        {
            Assert.True(batches.MoveNext());
            batches.Current.Dispose();
            Thread.Sleep(300);
            // The batch taken, and at most 2 more filled or being filled: 3 batches of 5.
            Assert.InRange(source.Reads, 5, 15);
        }
        var afterDispose = source.Reads;
        Thread.Sleep(100);
        Assert.Equal(afterDispose, source.Reads);   // the workers stopped
    }

    /// <summary>
    /// The workers allocate nothing while they fill and hand over batches (a collection they started could free a Scalar
    /// that the training thread has in a libtorch call: see BatchPrefetcher), the batches come in order with their
    /// lengths (the last one shorter), and a worker's exception reaches the consumer with the worker's stack.
    /// </summary>
    [Fact]
    public void The_workers_allocate_nothing_and_hand_over_every_batch_in_order()
    {
        const int batches = 300, size = 64;
        using (var prefetcher = new BatchPrefetcher(0, batches, 3, 4, b => b == batches - 1 ? size / 2 : size, (b, buffer) => buffer.AsSpan(0, size).Fill((byte)b)))
        {
            for (long b = 0; b < batches; b++)
            {
                var (buffer, length) = prefetcher.Take(b);
                Assert.Equal(b == batches - 1 ? size / 2 : size, length);
                Assert.True(buffer.AsSpan(0, length).IndexOfAnyExcept((byte)b) < 0, $"batch {b} holds another batch's bytes");
                prefetcher.Release(b);
            }
            Assert.Equal(0, prefetcher.WorkerAllocatedBytes);
        }

        using var failing = new BatchPrefetcher(0, 10, 2, 2, _ => 8, (b, _) => { if (b == 3) throw new InvalidOperationException("batch 3 failed"); });
        for (long b = 0; b < 3; b++)
        {
            failing.Take(b);
            failing.Release(b);
        }
        var e = Assert.Throws<InvalidOperationException>(() => failing.Take(3));
        Assert.Equal("batch 3 failed", e.Message);
        Assert.Contains("BatchPrefetcher.Work", e.StackTrace);
    }

    /// <summary>Samples whose bytes are their index; counts the reads.</summary>
    private sealed class CountingSource(int count, int size) : ISampleSource
    {
        private int reads;

        public int Reads => Volatile.Read(ref reads);

        public int Count => count;

        public long[] SampleShape => [size];

        public int SampleBytes => size;

        public bool InMemory => false;

        public void Read(int index, Span<byte> destination)
        {
            Interlocked.Increment(ref reads);
            destination.Fill((byte)index);
        }
    }
}
