using System.Text.Json;
using System.Text.Json.Nodes;
using Jepa.Bench.Harness;
using Jepa.Bench.Training;

var smoke = false;
string? jsonPath = null;
string[]? only = null;
int? threads = null;
var memorySteps = 10_000;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--smoke": smoke = true; break;
        case "--json" when i + 1 < args.Length: jsonPath = args[++i]; break;
        case "--only" when i + 1 < args.Length: only = args[++i].Split(','); break;
        case "--memory-steps" when i + 1 < args.Length: memorySteps = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--threads" when i + 1 < args.Length: threads = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        default:
            Console.Error.WriteLine("usage: Jepa.Bench [--smoke] [--json FILE] [--threads N] [--memory-steps N] [--only training,pytorch,memory,flops,compiler,masks,data,augment]");
            return 2;
    }
}

Jepa.Runtime.Native.TorchNative.EnsureLoaded();
// Two threads as in the platform notes for the measurement; one in the smoke mode, which only has to run everywhere:
// with two threads on a machine busy with other work, every parallel region waits for a descheduled thread and a step
// can take 25 times as long (measured here at load 5-6), which would stretch CI's smoke run from 30 s to 9 minutes.
TorchSharp.torch.set_num_threads(threads ?? (smoke ? 1 : 2));
var settings = new Settings(smoke) { MemorySteps = memorySteps };
Console.WriteLine($"Jepa.Bench ({(smoke ? "smoke" : "full")}): {Machine.Cpu()}, {Environment.ProcessorCount} cores, {TorchSharp.torch.get_num_threads()} torch threads, " +
                  $".NET {Environment.Version}, TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version}; {Machine.Load()}");
var table = new Table();
var report = new JsonObject { ["mode"] = smoke ? "smoke" : "full", ["machine"] = Machine.Describe() };
bool Runs(string part) => only is null || only.Contains(part);

if (Runs("training")) report["generated_vs_handwritten"] = GeneratedVsHandWritten.Run(settings, table);
if (Runs("pytorch")) report["pytorch_over_ours"] = VersusPyTorch.Run(settings, table);
if (Runs("memory")) report["rss_growth"] = Memory.Run(settings, table);
if (Runs("flops")) report["flops_utilization"] = Utilization.Run(settings, table);
if (Runs("masks")) report["mask_share"] = MaskShare.Run(settings, table);
if (Runs("data")) report["data_loading"] = DataLoading.Run(settings, table);
if (Runs("augment")) report["augmentation_seconds"] = AugmentationCost.Run(settings, table);
if (Runs("compiler")) report["compiler_ms"] = Jepa.Bench.CompilerBench.CompilerSection.Run(settings, table);

report["machine"]!["load_average_end"] = Machine.LoadAverage() is { } l ? Json.Array(l) : null;
Console.WriteLine();
table.Print(Console.Out);
if (smoke) Console.WriteLine("smoke mode: repetitions too short to judge the targets; it checks that every benchmark runs (docs/benchmarks.md).");
if (jsonPath is not null)
{
    File.WriteAllText(jsonPath, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"wrote {jsonPath}");
}
return 0;
