using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Jepa.Runtime.Data;
using Jepa.Runtime.Evaluation;
using Jepa.Runtime.Native;
using Jepa.Runtime.Training;
using Spectre.Console;
using TorchSharp;

namespace Jepa.Runner;

/// <summary>What <c>evaluation.json</c> says about the weights evaluated: the steps that trained them, the training time and
/// the last collapse reading when known, the alarms, why training stopped (null for a checkpoint on its own), and the
/// checkpoint they were loaded from (null right after training).</summary>
internal sealed record EvaluatedRun(long Steps, double? Seconds, CollapseReading? LastCollapse, int Alarms, string? StopReason, string? Checkpoint)
{
    public static EvaluatedRun Of(TrainingRun run) => new(run.Steps, run.Seconds, run.LastCollapse, run.CollapseAlarms.Count, run.StopReason.ToString(), null);
}

/// <summary>One representation evaluated: the trained encoder, the same encoder at random initialisation, or the raw input.</summary>
internal sealed record RepresentationResult(string Key, string Label, EvaluationReport Report);

/// <summary>
/// Evaluates on the test split (<see cref="RunData"/>), with the experiment's probes fitted on the probe split, three
/// representations: the trained encoder, the same encoder at its random initialisation (same options, normalisation
/// and seed, untrained), and the raw input (as loaded, not normalised). The comparison is what tells whether pretraining
/// added anything (calibration.md: on digits, random MLP features are already strong).
/// </summary>
internal static class EvaluationSuite
{
    public const string FileName = "evaluation.json";

    public static IReadOnlyList<RepresentationResult> Run(
        ExperimentDefinition definition, ExperimentOptions options, JepaExperiment trained, JepaDataset train, JepaDataset test, EvaluationOptions evaluation)
    {
        using var random = definition.Create(options);
        using var trainedMode = trained.EvaluationMode();
        using var randomMode = random.EvaluationMode();
        return
        [
            new("jepa", "JEPA encoder (trained)", Evaluate(trained.Embed, train, test, evaluation)),
            new("random_init", "same encoder, random init", Evaluate(random.Embed, train, test, evaluation)),
            new("raw_input", "raw input", Evaluate(x => x.flatten(1), train, test, evaluation)),
        ];
    }

    private static EvaluationReport Evaluate(Func<torch.Tensor, torch.Tensor> encode, JepaDataset train, JepaDataset test, EvaluationOptions evaluation)
    {
        using var guard = CollectionGuard.Enter();                  // the embedding too (Jepa.Runtime.Native)
        using var scope = torch.NewDisposeScope();
        return Evaluator.Run(Evaluator.Embed(encode, train), train.Labels!, Evaluator.Embed(encode, test), test.Labels!, evaluation);
    }

    public static void Print(IReadOnlyList<RepresentationResult> results, EvaluationOptions evaluation, RunData data, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
        });
        var table = new Table().Border(TableBorder.Rounded).Title(data.HeldOut ? "Evaluation on the held-out split" : "Evaluation on the test data");
        table.AddColumn("representation");
        if (evaluation.LinearProbe is not null) table.AddColumn(new TableColumn("linear probe (all labels)").RightAligned());
        if (evaluation.FewShot is { } fs) table.AddColumn(new TableColumn($"few-shot ({fs.LabelsPerClass}/class, {fs.Draws} draws)").RightAligned());
        if (evaluation.Knn is { } knn) table.AddColumn(new TableColumn($"kNN (k={knn.K}, cosine)").RightAligned());
        foreach (var result in results)
        {
            var cells = new List<string> { result.Label };
            if (evaluation.LinearProbe is not null) cells.Add(Percent(result.Report.LinearProbe));
            if (evaluation.FewShot is not null) cells.Add(result.Report.FewShot is { } f ? $"{Percent(f.Mean)} ± {f.Std * 100:F1}" : "-");
            if (evaluation.Knn is not null) cells.Add(Percent(result.Report.Knn));
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }

        console.Write(table);
        var first = results[0].Report;
        console.WriteLine($"train {first.TrainCount}, test {first.TestCount} samples; one test sample is {100.0 / Math.Max(1, first.TestCount):F2} points.");
        if (UnconvergedNote(results) is { } note) console.WriteLine(note);
    }

    /// <summary>
    /// A note naming the representations whose linear probe ran out of L-BFGS iterations before converging, and the
    /// largest gradient component each stopped at, and a second line for the few-shot draws that did; null when every
    /// fit converged (or there is no probe). An unconverged probe under-fits, and not by the same amount for every
    /// representation, so the table's comparison is only as good as the fits.
    /// </summary>
    internal static string? UnconvergedNote(IReadOnlyList<RepresentationResult> results)
    {
        var lines = new List<string>();
        var stopped = results.Where(r => r.Report.LinearProbeFit is { Converged: false }).ToList();
        if (stopped.Count > 0)
        {
            var which = string.Join("; ", stopped.Select(r => $"{r.Label} at {Number(r.Report.LinearProbeFit!.LargestGradient)}"));
            lines.Add($"note: the linear probe ran out of its {stopped[0].Report.LinearProbeFit!.Budget} L-BFGS iterations before converging "
                + $"(largest gradient component above {Tolerance}) for {which}. A larger linear_probe(epochs: ...) fits it further.");
        }

        var fewShot = results
            .Select(r => (r.Label, Fits: r.Report.FewShot?.Fits ?? []))
            .Where(r => r.Fits.Any(f => !f.Converged))
            .ToList();
        if (fewShot.Count > 0)
        {
            var which = string.Join("; ", fewShot.Select(r =>
            {
                var open = r.Fits.Where(f => !f.Converged).ToList();
                return $"{r.Label} in {open.Count} of {r.Fits.Count} draws (at most {Number(open.Max(f => f.LargestGradient))})";
            }));
            lines.Add($"note: few-shot fits ran out of their {fewShot[0].Fits[0].Budget} L-BFGS iterations before converging for {which}. "
                + "A larger few_shot(epochs: ...) fits them further.");
        }

        return lines.Count == 0 ? null : string.Join(Environment.NewLine, lines);
    }

    private static string Tolerance => LogisticRegression.GradientTolerance.ToString("0e+00", CultureInfo.InvariantCulture);

    private static string Number(double value) => value.ToString("0.0e+00", CultureInfo.InvariantCulture);

    private static string Percent(double? value) => value is { } v ? (v * 100).ToString("F1", CultureInfo.InvariantCulture) + " %" : "-";

    /// <summary>Writes <c>evaluation.json</c>: experiment, steps, seconds, each probe for each representation, how the
    /// probes' fits ended (<c>probe_fit</c>), the final collapse readings, and the counts and sources of the train, probe
    /// and test samples; for a checkpoint evaluated on its own (<c>jepa evaluate</c>), its path.</summary>
    public static string WriteJson(string folder, string experiment, EvaluatedRun run, IReadOnlyList<RepresentationResult> results, RunData data)
    {
        JsonObject Probe(Func<EvaluationReport, double?> select)
        {
            var node = new JsonObject();
            foreach (var result in results) node[result.Key] = select(result.Report) is { } v ? JsonValue.Create(v) : null;
            return node;
        }

        static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;   // JSON has no NaN

        JsonObject Fits()
        {
            var linear = new JsonObject();
            var fewShot = new JsonObject();
            foreach (var result in results)
            {
                linear[result.Key] = result.Report.LinearProbeFit is { } fit
                    ? new JsonObject
                    {
                        ["iterations"] = fit.Iterations,
                        ["budget"] = fit.Budget,
                        ["converged"] = fit.Converged,
                        ["largest_gradient"] = Finite(fit.LargestGradient),
                    }
                    : null;
                fewShot[result.Key] = result.Report.FewShot is { Fits: { Count: > 0 } fits }
                    ? new JsonObject
                    {
                        ["draws"] = fits.Count,
                        ["converged"] = fits.Count(f => f.Converged),
                        ["budget"] = fits[0].Budget,
                        ["largest_gradient"] = Finite(fits.Max(f => f.LargestGradient)),
                    }
                    : null;
            }
            return new JsonObject { ["linear_probe"] = linear, ["few_shot"] = fewShot, ["tolerance"] = LogisticRegression.GradientTolerance };
        }

        var last = run.LastCollapse;
        var json = new JsonObject
        {
            ["experiment"] = experiment,
            ["steps"] = run.Steps,
            ["seconds"] = run.Seconds is { } seconds ? JsonValue.Create(Math.Round(seconds, 3)) : null,
            ["linear_probe"] = Probe(r => r.LinearProbe),
            ["few_shot"] = Probe(r => r.FewShot?.Mean),
            ["knn"] = Probe(r => r.Knn),
            ["probe_fit"] = Fits(),
            ["collapse"] = new JsonObject
            {
                ["final_std"] = last is null ? null : JsonValue.Create(last.Std),
                ["final_rank"] = last is null ? null : JsonValue.Create(last.RankMe),
                ["alarms"] = run.Alarms,
            },
            ["stop_reason"] = run.StopReason,
            ["train_samples"] = results[0].Report.TrainCount,
            ["test_samples"] = results[0].Report.TestCount,
            ["data"] = data.ToJson(),
        };
        if (run.Checkpoint is { } checkpoint) json["checkpoint"] = checkpoint;
        var path = Path.Combine(folder, FileName);
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return path;
    }
}
