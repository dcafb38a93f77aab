using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Jepa.Bench.Compiler;
using Jepa.Dsl;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Parsing;

// Usage: dotnet run --project bench/Jepa.Bench.Compiler -c Release [-- --runs N] [--json FILE]
var runs = 50;
string? json = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--runs" when i + 1 < args.Length:
            runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--json" when i + 1 < args.Length:
            json = args[++i];
            break;
        default:
            Console.Error.WriteLine("usage: Jepa.Bench.Compiler [--runs N] [--json FILE]");
            return 2;
    }
}

var text = LargeFile.Generate();
var lines = text.Count(c => c == '\n');
var check = JepaCompiler.Compile("bench.jepa", text);
if (check.Diagnostics.Count != 0 || check.Bound.Experiments.Count != 50)
{
    Console.Error.WriteLine("the generated file does not compile cleanly:");
    foreach (var diagnostic in check.Diagnostics.Take(10))
    {
        Console.Error.WriteLine(diagnostic.Format("bench.jepa"));
    }

    return 1;
}

// Warm up (JIT, tiering), then measure parse+bind, parse alone and bind alone, interleaved.
for (var i = 0; i < 30; i++)
{
    JepaCompiler.Compile("bench.jepa", text);
}

var total = new List<double>();
var parse = new List<double>();
var bind = new List<double>();
var stopwatch = new Stopwatch();
for (var i = 0; i < runs; i++)
{
    stopwatch.Restart();
    JepaCompiler.Compile("bench.jepa", text);
    total.Add(stopwatch.Elapsed.TotalMilliseconds);

    stopwatch.Restart();
    var tree = JepaParser.Parse(text);
    parse.Add(stopwatch.Elapsed.TotalMilliseconds);

    stopwatch.Restart();
    Binder.Bind(tree, "bench.jepa", out _);
    bind.Add(stopwatch.Elapsed.TotalMilliseconds);
}

static double Median(List<double> values)
{
    var sorted = values.OrderBy(v => v).ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

var before = GC.GetAllocatedBytesForCurrentThread();
JepaCompiler.Compile("bench.jepa", text);
var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

Console.WriteLine($"Jepa.Dsl front end: {lines} lines, {check.Bound.Experiments.Count} experiments, {text.Length:N0} characters");
Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} cores, {runs} runs after 30 warm-up runs");
Console.WriteLine($"  parse + bind: median {Median(total):F2} ms  (min {total.Min():F2}, max {total.Max():F2})   target < 50 ms");
Console.WriteLine($"  parse only:   median {Median(parse):F2} ms");
Console.WriteLine($"  bind only:    median {Median(bind):F2} ms");
Console.WriteLine($"  allocated per parse + bind: {allocated / 1024.0 / 1024.0:F1} MB; GC counts gen0/1/2: {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}");
if (json is not null)
{
    File.WriteAllText(json, JsonSerializer.Serialize(new
    {
        lines,
        experiments = check.Bound.Experiments.Count,
        runs,
        parse_bind_median_ms = Median(total),
        parse_bind_min_ms = total.Min(),
        allocated_bytes = allocated,
        parse_median_ms = Median(parse),
        bind_median_ms = Median(bind),
    }));
}

return 0;
