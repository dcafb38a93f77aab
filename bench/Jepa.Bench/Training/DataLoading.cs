using System.Diagnostics;
using System.Text.Json.Nodes;
using Jepa.Bench.Harness;
using Jepa.Runtime.Data;
using Jepa.Runtime.Training;
using SkiaSharp;

namespace Jepa.Bench.Training;

/// <summary>
/// Section 7: the streaming loader (docs/data.md) on a folder of 32x32 RGB PNG files it makes (20,000 in 10 class
/// folders; 1,000 in the smoke mode), feeding <see cref="BenchImages"/> through <c>Train</c>:
/// <list type="bullet">
/// <item><c>data_wait_share</c>: the time the trainer waits for its next batch (inside the data's enumerator, tensor
///   made) over the time of the steps, in the first epoch with the cache off (every image decoded while training) and in
///   steady state (the second epoch with the cache on). Target: under 5 % for both.</item>
/// <item>images decoded per second by the loader (cache off, no training) against a plain single-threaded loop that
///   reads and decodes each file with SkiaSharp.</item>
/// <item>the time to index a folder of 100,000 tiny files (5,000 in the smoke mode) in 100 class folders. Target: under 5 s.</item>
/// </list>
/// </summary>
public static class DataLoading
{
    public const double WaitTarget = 0.05;
    public const double IndexSecondsTarget = 5.0;

    public static JsonObject Run(Settings s, Table table)
    {
        var root = Path.Combine(Path.GetTempPath(), $"jepa-bench-data-{Environment.ProcessId}");
        try
        {
            var images = s.Smoke ? 1_000 : 20_000;
            var folder = Path.Combine(root, "images");
            var made = Stopwatch.StartNew();
            MakeImages(folder, images);
            Console.WriteLine($"data: made {images} PNG files of 32x32 in {made.Elapsed.TotalSeconds:F1} s");

            var first = WaitShare(folder, cacheBytes: 0, epochs: 1, table, "first epoch, cache off");
            var steady = WaitShare(folder, cacheBytes: null, epochs: 2, table, "steady state (epoch 2, cached)");
            var decode = DecodeRate(folder, table);
            var index = IndexTime(Path.Combine(root, "many"), s.Smoke ? 5_000 : 100_000, table);
            return new JsonObject
            {
                ["images"] = images,
                ["data_wait_share"] = new JsonObject { ["first_epoch_cache_off"] = first, ["steady_state"] = steady },
                ["decode"] = decode,
                ["index"] = index,
            };
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Random 32x32 RGB images (about 3 KiB each as PNG: noise does not compress), 10 class folders.</summary>
    private static void MakeImages(string folder, int count)
    {
        Parallel.For(0, count, i =>
        {
            var random = new Random(i);
            using var bitmap = new SKBitmap(new SKImageInfo(32, 32, SKColorType.Rgba8888, SKAlphaType.Opaque));
            random.NextBytes(bitmap.GetPixelSpan());
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            var path = Path.Combine(folder, $"class{i % 10}", $"{i:D6}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, png.ToArray());
        });
    }

    private static JsonObject WaitShare(string folder, long? cacheBytes, int epochs, Table table, string what)
    {
        using var data = DataSources.Open([folder], new DataOptions { InputShape = BenchImages.InputShape.ToArray(), CacheBytes = cacheBytes });
        var streaming = (StreamingDataset)data.Train;
        var timed = new TimedData(data.Train);
        using var experiment = new BenchImages(BenchImages.Options.Default with { Collapse = null });
        var perEpoch = data.Train.Count / BenchImages.Options.Default.Batch;
        TrainingRun? run = null;
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            timed.Reset();
            run = experiment.Train(timed, new TrainOptions { Steps = epoch * perEpoch, Log = _ => { } });
        }
        var seconds = run!.Seconds;
        var share = timed.WaitSeconds / seconds;
        var load = Machine.Load();
        Console.WriteLine($"data wait {what}: {timed.WaitSeconds:F2} s of {seconds:F1} s ({100 * share:F2} %), {perEpoch} steps of {BenchImages.Options.Default.Batch}, " +
                          $"{streaming.Workers} workers, {streaming.Memory}; {load}");
        table.Add("7 data wait share", what, $"{100 * share:F2} % ({1e3 * timed.WaitSeconds / perEpoch:F2} of {1e3 * seconds / perEpoch:F0} ms/step)", $"< {100 * WaitTarget:F0} %", share < WaitTarget, load);
        return new JsonObject
        {
            ["share"] = share,
            ["wait_seconds"] = timed.WaitSeconds,
            ["step_seconds"] = seconds,
            ["steps"] = perEpoch,
            ["batch"] = BenchImages.Options.Default.Batch,
            ["workers"] = streaming.Workers,
            ["cached"] = streaming.Cached,
            ["target"] = WaitTarget,
            ["met"] = share < WaitTarget,
            ["load"] = load,
        };
    }

    private static JsonObject DecodeRate(string folder, Table table)
    {
        var files = Directory.EnumerateFiles(folder, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var plain = Stopwatch.StartNew();
        long checksum = 0;
        foreach (var file in files)
        {
            using var codec = SKCodec.Create(new SKMemoryStream(File.ReadAllBytes(file)));
            codec.GetPixels(new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul), out var pixels);
            checksum += pixels[0];
        }
        var plainRate = files.Count / plain.Elapsed.TotalSeconds;

        var result = new JsonObject { ["plain_single_thread_per_s"] = plainRate };
        foreach (var workers in new[] { DataOptions.DefaultWorkers, Environment.ProcessorCount }.Distinct())
        {
            using var data = DataSources.Open([folder], new DataOptions { InputShape = BenchImages.InputShape.ToArray(), CacheBytes = 0, Workers = workers });
            var loader = Stopwatch.StartNew();
            foreach (var batch in data.Train.Batches(256, seed: 1, epoch: 0, dropLast: false)) batch.Dispose();
            var rate = data.Train.Count / loader.Elapsed.TotalSeconds;
            var load = Machine.Load();
            Console.WriteLine($"decode: loader with {workers} worker(s) {rate:F0} images/s (decoded, converted, batched as float tensors), plain single-threaded decode {plainRate:F0} images/s; {load}");
            table.Add("7 images decoded", $"loader, {workers} worker(s), vs plain 1-thread decode", $"{rate:F0} vs {plainRate:F0} images/s ({rate / plainRate:F2}x)", "reported", null, load);
            result[$"loader_{workers}_workers_per_s"] = rate;
        }
        result["checksum"] = checksum;
        return result;
    }

    private static JsonObject IndexTime(string folder, int count, Table table)
    {
        var png = TinyPng();
        for (var c = 0; c < 100; c++) Directory.CreateDirectory(Path.Combine(folder, $"c{c:D2}"));
        Parallel.For(0, count, i => File.WriteAllBytes(Path.Combine(folder, $"c{i % 100:D2}", $"{i:D6}.png"), png));
        var clock = Stopwatch.StartNew();
        using var data = DataSources.Open([folder], new DataOptions { InputShape = [1, 1, 1] });
        var seconds = clock.Elapsed.TotalSeconds;
        if (data.Train.Count != count || data.Files.Count != count) throw new InvalidOperationException($"indexed {data.Train.Count} of {count} files");
        var load = Machine.Load();
        Console.WriteLine($"index: {count} files in 100 class folders in {seconds:F2} s; {load}");
        table.Add("7 folder index", $"{count:N0} files, 100 class folders", $"{seconds:F2} s", $"< {IndexSecondsTarget:F0} s", seconds < IndexSecondsTarget, load);
        return new JsonObject { ["files"] = count, ["seconds"] = seconds, ["target_seconds"] = IndexSecondsTarget, ["met"] = seconds < IndexSecondsTarget, ["load"] = load };
    }

    private static byte[] TinyPng()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(1, 1, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    /// <summary>The data, with the time spent inside its enumerator's MoveNext: what the trainer waits for a batch.</summary>
    private sealed class TimedData(ITrainingData inner) : ITrainingData
    {
        private readonly Stopwatch clock = new();

        public long Count => inner.Count;

        public double WaitSeconds => clock.Elapsed.TotalSeconds;

        public void Reset() => clock.Reset();

        public IEnumerable<TorchSharp.torch.Tensor> Batches(int batchSize, long seed, long epoch, bool dropLast = true, long startBatch = 0)
        {
            using var batches = inner.Batches(batchSize, seed, epoch, dropLast, startBatch).GetEnumerator();
            while (true)
            {
                clock.Start();
                var more = batches.MoveNext();
                clock.Stop();
                if (!more) yield break;
                yield return batches.Current;
            }
        }
    }
}
