using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Jepa.Bench.Harness;

namespace Jepa.Bench.Training;

/// <summary>
/// bench/pytorch/jepa_step.py in serve mode as a timed loop: one long-lived Python process (Debian's python3-torch with
/// the given OPENBLAS_NUM_THREADS and torch.set_num_threads), warmed up once; each <see cref="Run"/> asks it for that many
/// steps and reads back the seconds per step it timed itself (so pipe latency is not counted).
/// </summary>
public sealed class PyTorchLoop : ITimedLoop
{
    private readonly Process process;
    private double? last;
    private double? lastCpu;

    private PyTorchLoop(Process process, string model, JsonObject ready, int blasThreads)
    {
        this.process = process;
        Threads = ready["threads"]!.GetValue<int>();
        BlasThreads = blasThreads;
        Name = $"PyTorch {ready["torch"]} (torch threads {Threads}, OpenBLAS threads {BlasThreads})";
        Model = model;
    }

    public string Name { get; }

    public string Model { get; }

    public int Threads { get; }

    public int BlasThreads { get; }

    public double? MeanContextTokens { get; private set; }

    public double? MeanTargetTokens { get; private set; }

    public double? LastSecondsPerStep => last;

    public double? LastCpuSecondsPerStep => lastCpu;

    /// <summary>Why the PyTorch peer cannot run here, or null when it can.</summary>
    public static string? Unavailable()
    {
        if (!File.Exists(Python)) return $"skipped: python3-torch not installed ({Python} missing; bench/setup.sh installs it)";
        try
        {
            using var p = Process.Start(new ProcessStartInfo(Python, ["-c", "import torch"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit();
            return p.ExitCode == 0 ? null : "skipped: python3-torch not installed (import torch failed; bench/setup.sh installs it)";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"skipped: python3-torch not installed ({e.Message})";
        }
    }

    /// <summary>Debian's Python: its python3-torch is what bench/setup.sh installs (a pyenv Python may come first on PATH).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>Debian's PyTorch multiplies matrices in OpenBLAS, whose threads are not torch's: platform-notes.md
    /// prescribes OPENBLAS_NUM_THREADS=1 with torch.set_num_threads(2) (both at 2 oversubscribe the cores, 2-3 times
    /// slower here), but that leaves matrix products on one thread, so the comparison also runs the other layout.</summary>
    public static PyTorchLoop Start(string model, int batch, int threads, int warmup, int blasThreads)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "pytorch", "jepa_step.py");
        var info = new ProcessStartInfo(Python,
            [script, "--model", model, "--batch", batch.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture),
             "--warmup", warmup.ToString(CultureInfo.InvariantCulture), "--serve"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        info.Environment["OPENBLAS_NUM_THREADS"] = blasThreads.ToString(CultureInfo.InvariantCulture);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + Python);
        // Ended with us even when we are stopped (SIGTERM runs ProcessExit); it also exits when its standard input closes.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                if (!process.HasExited) process.Kill();
            }
            catch (InvalidOperationException)
            {
            }
        };
        var line = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"{script} exited before it was ready (exit code {WaitExit(process)})");
        return new PyTorchLoop(process, model, JsonNode.Parse(line)!.AsObject(), blasThreads);
    }

    private static int WaitExit(Process p)
    {
        p.WaitForExit(5000);
        return p.HasExited ? p.ExitCode : -1;
    }

    public void Run(int steps)
    {
        process.StandardInput.WriteLine($"run {steps}");
        process.StandardInput.Flush();
        var line = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"the PyTorch peer exited (exit code {WaitExit(process)})");
        var answer = JsonNode.Parse(line)!.AsObject();
        last = answer["seconds_per_step"]!.GetValue<double>();
        lastCpu = answer["cpu_seconds_per_step"]!.GetValue<double>();
        MeanContextTokens = answer["mean_context_tokens"]?.GetValue<double>();
        MeanTargetTokens = answer["mean_target_tokens"]?.GetValue<double>();
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.StandardInput.WriteLine("quit");
                process.StandardInput.Flush();
                if (!process.WaitForExit(10_000)) process.Kill();
            }
        }
        catch (IOException)
        {
        }
        process.Dispose();
    }
}

/// <summary>
/// Section 2: seconds per step of the same architectures in PyTorch over ours (the generated experiment through
/// <c>Train</c>), interleaved repetitions in one session. Target: at least 1.0.
/// </summary>
public static class VersusPyTorch
{
    public const double Target = 1.0;

    private static readonly (int M, int K, int N)[] Shapes = [(256, 64, 256), (256, 256, 256), (256, 256, 128), (2048, 2048, 2048)];

    /// <summary>
    /// What the two BLAS libraries do with the mlp's matrix shapes (and a large square one): best GFLOP/s of
    /// <c>torch.mm</c> in TorchSharp (libtorch 2.10) and in the PyTorch peer (Debian's build on OpenBLAS, with one
    /// OpenBLAS thread and with as many as ours), three rounds alternating between the two, same torch threads.
    /// </summary>
    private static JsonObject Matmul(Settings s, Table table)
    {
        var ours = new Dictionary<string, double>();
        var theirs = new Dictionary<string, double>();
        for (var round = 0; round < (s.Smoke ? 1 : 3); round++)
        {
            foreach (var (m, k, n) in Shapes)
            {
                var key = $"{m}x{k}x{n}";
                ours[key] = Math.Max(ours.GetValueOrDefault(key), Rate(m, k, n, s.Smoke ? 2 : 5));
            }
            // OpenBLAS on one thread and on as many as ours (the two layouts of Run); the better of the two per shape.
            foreach (var blas in new[] { 1, TorchSharp.torch.get_num_threads() }.Distinct())
            {
                var info = new ProcessStartInfo(PyTorchLoop.Python,
                    [Path.Combine(AppContext.BaseDirectory, "pytorch", "jepa_step.py"), "--matmul", s.Smoke ? "2" : "5", "--threads", TorchSharp.torch.get_num_threads().ToString(CultureInfo.InvariantCulture)])
                { RedirectStandardOutput = true, UseShellExecute = false };
                info.Environment["OPENBLAS_NUM_THREADS"] = blas.ToString(CultureInfo.InvariantCulture);
                using var p = Process.Start(info)!;
                var answer = JsonNode.Parse(p.StandardOutput.ReadToEnd())!["gflops"]!.AsObject();
                p.WaitForExit();
                foreach (var (key, value) in answer) theirs[key] = Math.Max(theirs.GetValueOrDefault(key), value!.GetValue<double>());
            }
        }
        var result = new JsonObject();
        foreach (var key in ours.Keys)
        {
            result[key] = new JsonObject { ["torchsharp"] = ours[key], ["pytorch"] = theirs.GetValueOrDefault(key, double.NaN) };
            table.Add("2 PyTorch / ours", $"torch.mm {key}, GFLOP/s", $"PyTorch {theirs.GetValueOrDefault(key, double.NaN):F1}, TorchSharp {ours[key]:F1}", note: Machine.Load());
        }
        return result;
    }

    /// <summary>Best GFLOP/s of <c>torch.mm</c> of (m, k) by (k, n) over <paramref name="reps"/> timings of about 0.2 GFLOP each.</summary>
    private static double Rate(int m, int k, int n, int reps)
    {
        using var g = new TorchSharp.torch.Generator(1);
        using var a = TorchSharp.torch.randn([m, k], generator: g);
        using var b = TorchSharp.torch.randn([k, n], generator: g);
        var inner = Math.Max(1, (int)(2e8 / (2.0 * m * k * n)));
        var best = 0.0;
        var watch = new Stopwatch();
        for (var r = 0; r <= reps; r++)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            watch.Restart();
            for (var i = 0; i < inner; i++) TorchSharp.torch.mm(a, b).Dispose();
            var seconds = watch.Elapsed.TotalSeconds / inner;
            if (r > 0) best = Math.Max(best, 2.0 * m * k * n / seconds);
        }
        return best / 1e9;
    }

    public static JsonObject Run(Settings s, Table table)
    {
        var why = PyTorchLoop.Unavailable();
        if (why is not null)
        {
            table.Add("2 PyTorch / ours", "mlp, vit", why);
            return new JsonObject { ["skipped"] = why };
        }
        var result = new JsonObject { ["matmul_gflops"] = Matmul(s, table) };
        // PyTorch in both thread layouts (torch threads as ours with one OpenBLAS thread, as platform-notes.md says;
        // one torch thread with OpenBLAS on all of ours), all interleaved with ours; the ratio is against the faster
        // (the smaller paired ratio).
        var threads = TorchSharp.torch.get_num_threads();
        var layouts = threads > 1 ? new[] { (Torch: threads, Blas: 1), (Torch: 1, Blas: threads) } : [(Torch: threads, Blas: 1)];
        foreach (var model in new[] { "mlp", "vit" })
        {
            using var batch = Batches.For(model);
            var plan = s.Plan();
            using var ours = new TrainLoop(Experiments.Create(model), batch, "ours (generated, Train)");
            var peers = layouts.Select(l => PyTorchLoop.Start(model, (int)batch.shape[0], l.Torch, plan.Warmup, l.Blas)).ToList();
            try
            {
                var (t, steps) = Interleaved.Measure([ours, .. peers], plan);
                var best = Enumerable.Range(1, peers.Count).MinBy(i => Interleaved.PairedRatio(t[i], t[0]));
                var peer = peers[best - 1];
                var ratio = Interleaved.PairedRatio(t[best], t[0]);
                var load = Machine.Load();
                var entry = new JsonObject
                {
                    ["pytorch_seconds_per_step"] = t[best].Median,
                    ["ours_seconds_per_step"] = t[0].Median,
                    ["ratio"] = ratio,
                    ["cpu_ratio"] = Interleaved.PairedCpuRatio(t[best], t[0]),
                    ["target"] = Target,
                    ["met"] = ratio >= Target,
                    ["pytorch"] = peer.Name,
                    ["threads"] = peer.Threads,
                    ["blas_threads"] = peer.BlasThreads,
                    ["reps"] = plan.Reps,
                    ["steps_per_rep"] = steps,
                    ["pytorch_reps"] = Json.Array(t[best].SecondsPerStep),
                    ["ours_reps"] = Json.Array(t[0].SecondsPerStep),
                    ["pytorch_layouts"] = new JsonArray(peers.Select((p, i) => (JsonNode)new JsonObject
                    {
                        ["torch_threads"] = p.Threads,
                        ["blas_threads"] = p.BlasThreads,
                        ["seconds_per_step"] = t[i + 1].Median,
                        ["ratio"] = Interleaved.PairedRatio(t[i + 1], t[0]),
                        ["reps"] = Json.Array(t[i + 1].SecondsPerStep),
                    }).ToArray()),
                    ["load"] = load,
                };
                if (peer.MeanContextTokens is { } nc) entry["pytorch_mean_context_tokens"] = nc;
                if (peer.MeanTargetTokens is { } nt) entry["pytorch_mean_target_tokens"] = nt;
                result[model] = entry;
                table.Add("2 PyTorch / ours", model, $"{ratio:F2} ({t[best].Median * 1e3:F2} vs {t[0].Median * 1e3:F2} ms/step, {peer.Name}; cpu time {Interleaved.PairedCpuRatio(t[best], t[0]):F2})", $">= {Target}", ratio >= Target, load);
                for (var i = 1; i <= peers.Count; i++)
                {
                    if (i != best) table.Add("2 PyTorch / ours", model + ", other layout", $"{Interleaved.PairedRatio(t[i], t[0]):F2} ({t[i].Median * 1e3:F2} ms/step, {peers[i - 1].Name})", note: load);
                }
            }
            finally
            {
                foreach (var p in peers) p.Dispose();
            }
        }
        return result;
    }
}
