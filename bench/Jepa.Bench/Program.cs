using System.Text.Json;
using System.Text.Json.Nodes;
using Jepa.Bench.Harness;
using Jepa.Bench.Training;

var smoke = false;
string? jsonPath = null;
string[]? only = null;
var threads = 2;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--smoke": smoke = true; break;
        case "--json" when i + 1 < args.Length: jsonPath = args[++i]; break;
        case "--only" when i + 1 < args.Length: only = args[++i].Split(','); break;
        case "--threads" when i + 1 < args.Length: threads = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        default:
            Console.Error.WriteLine("usage: Jepa.Bench [--smoke] [--json FILE] [--threads N] [--only training,pytorch,memory,flops,compiler,masks]");
            return 2;
    }
}

Jepa.Runtime.Native.TorchNative.EnsureLoaded();
TorchSharp.torch.set_num_threads(threads);
var settings = new Settings(smoke);
var table = new Table();
var report = new JsonObject { ["mode"] = smoke ? "smoke" : "full", ["machine"] = Machine.Describe() };
bool Runs(string part) => only is null || only.Contains(part);

if (Runs("training")) report["generated_vs_handwritten"] = GeneratedVsHandWritten.Run(settings, table);
if (Runs("pytorch")) report["pytorch_over_ours"] = VersusPyTorch.Run(settings, table);
if (Runs("compiler")) report["compiler_ms"] = Jepa.Bench.CompilerBench.CompilerSection.Run(settings, table);

report["machine"]!["load_average_end"] = Machine.LoadAverage() is { } l ? Json.Array(l) : null;
Console.WriteLine();
table.Print(Console.Out);
if (jsonPath is not null)
{
    File.WriteAllText(jsonPath, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"wrote {jsonPath}");
}
return 0;
