using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TorchSharp;

namespace Jepa.Runtime.Training;

/// <summary>One row of the metrics files: a training step, a collapse reading, an online evaluation, or several.</summary>
internal sealed record MetricsRow(
    long Step,
    int Epoch,
    double Seconds,
    IReadOnlyDictionary<string, double>? Terms = null,
    double? Loss = null,
    double? LearningRate = null,
    double? WeightDecay = null,
    double? EmaMomentum = null,
    double? GradientNorm = null,
    double? StepsPerSecond = null,
    double? EmbeddingStd = null,
    double? RankMe = null,
    double? OnlineLinearProbe = null,
    double? OnlineKnn = null,
    double? OnlineSeconds = null);

/// <summary>
/// Writes a run's metrics: <c>metrics.jsonl</c> (one JSON object per row), <c>metrics.csv</c> (a header, then one line
/// per row; empty cells where a value was not measured) and TensorBoard event files under <c>tensorboard/</c> through
/// TorchSharp's SummaryWriter. When a run resumes at step s, rows after s left by the interrupted run are dropped first.
/// </summary>
internal sealed class MetricsWriter : IDisposable
{
    public const string JsonFile = "metrics.jsonl";
    public const string CsvFile = "metrics.csv";
    public const string TensorBoardFolder = "tensorboard";

    private static readonly string[] Fixed = ["step", "epoch", "loss"];
    private static readonly string[] Trailing = ["lr", "weight_decay", "ema_momentum", "grad_norm", "steps_per_s", "seconds", "embedding_std", "rankme",
        "online_linear_probe", "online_knn", "online_seconds"];

    private readonly StreamWriter json;
    private readonly StreamWriter csv;
    private readonly TorchSharp.Modules.SummaryWriter tensorBoard;
    private readonly ArrayBufferWriter<byte> buffer = new();
    private readonly List<MetricsRow> pending = [];
    private string[]? termNames;
    private DateTime lastFlush = DateTime.UtcNow;

    public MetricsWriter(string folder, long resumeStep)
    {
        Directory.CreateDirectory(folder);
        var jsonPath = Path.Combine(folder, JsonFile);
        var csvPath = Path.Combine(folder, CsvFile);
        if (resumeStep > 0)
        {
            KeepRowsUpTo(jsonPath, resumeStep, line => JsonDocument.Parse(line).RootElement.GetProperty("step").GetInt64(), header: false);
            termNames = KeepRowsUpTo(csvPath, resumeStep, line => long.Parse(line.AsSpan(0, line.IndexOf(',')), CultureInfo.InvariantCulture), header: true);
        }
        else
        {
            File.Delete(jsonPath);
            File.Delete(csvPath);
        }
        json = new StreamWriter(new FileStream(jsonPath, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
        csv = new StreamWriter(new FileStream(csvPath, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
        tensorBoard = torch.utils.tensorboard.SummaryWriter(Path.Combine(folder, TensorBoardFolder));
    }

    public void Write(MetricsRow row)
    {
        if (termNames is null && row.Terms is null)
        {
            pending.Add(row); // the CSV header needs the term names of the first training step
            return;
        }
        if (termNames is null)
        {
            termNames = [.. row.Terms!.Keys];
            csv.WriteLine(string.Join(',', Columns(termNames)));
            foreach (var p in pending) WriteRow(p);
            pending.Clear();
        }
        WriteRow(row);
        if (DateTime.UtcNow - lastFlush > TimeSpan.FromSeconds(2)) Flush();
    }

    private void WriteRow(MetricsRow row)
    {
        if (row.Terms is not null && (row.Terms.Count != termNames!.Length || termNames.Any(n => !row.Terms.ContainsKey(n))))
            throw new InvalidOperationException($"The loss terms changed at step {row.Step}: [{string.Join(", ", row.Terms.Keys)}] after [{string.Join(", ", termNames)}]; a run's terms must stay the same.");
        WriteJson(row);
        WriteCsv(row);
        WriteTensorBoard(row);
    }

    private void WriteJson(MetricsRow row)
    {
        buffer.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("step", row.Step);
            w.WriteNumber("epoch", row.Epoch);
            Number(w, "loss", row.Loss);
            if (row.Terms is not null)
            {
                w.WriteStartObject("terms");
                foreach (var n in termNames!) w.WriteNumber(n, row.Terms[n]);
                w.WriteEndObject();
            }
            Number(w, "lr", row.LearningRate);
            Number(w, "weight_decay", row.WeightDecay);
            Number(w, "ema_momentum", row.EmaMomentum);
            Number(w, "grad_norm", row.GradientNorm);
            Number(w, "steps_per_s", row.StepsPerSecond);
            w.WriteNumber("seconds", row.Seconds);
            Number(w, "embedding_std", row.EmbeddingStd);
            Number(w, "rankme", row.RankMe);
            Number(w, "online_linear_probe", row.OnlineLinearProbe);
            Number(w, "online_knn", row.OnlineKnn);
            Number(w, "online_seconds", row.OnlineSeconds);
            w.WriteEndObject();
        }
        json.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void Number(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
    }

    private void WriteCsv(MetricsRow row)
    {
        var cells = new List<string>(Fixed.Length + termNames!.Length + Trailing.Length)
        {
            row.Step.ToString(CultureInfo.InvariantCulture),
            row.Epoch.ToString(CultureInfo.InvariantCulture),
            Cell(row.Loss),
        };
        cells.AddRange(termNames.Select(n => Cell(row.Terms?[n])));
        cells.AddRange([Cell(row.LearningRate), Cell(row.WeightDecay), Cell(row.EmaMomentum), Cell(row.GradientNorm),
            Cell(row.StepsPerSecond), Cell(row.Seconds), Cell(row.EmbeddingStd), Cell(row.RankMe),
            Cell(row.OnlineLinearProbe), Cell(row.OnlineKnn), Cell(row.OnlineSeconds)]);
        csv.WriteLine(string.Join(',', cells));
    }

    private static string Cell(double? v) => v is { } x ? x.ToString("R", CultureInfo.InvariantCulture) : "";

    private void WriteTensorBoard(MetricsRow row)
    {
        var step = checked((int)row.Step);
        void Scalar(string tag, double? v)
        {
            if (v is { } x) tensorBoard.add_scalar(tag, (float)x, step);
        }
        Scalar("loss/total", row.Loss);
        if (row.Terms is not null)
            foreach (var n in termNames!) Scalar("loss/" + n, row.Terms[n]);
        Scalar("train/lr", row.LearningRate);
        Scalar("train/weight_decay", row.WeightDecay);
        Scalar("train/ema_momentum", row.EmaMomentum);
        Scalar("train/grad_norm", row.GradientNorm);
        Scalar("train/steps_per_s", row.StepsPerSecond);
        Scalar("collapse/embedding_std", row.EmbeddingStd);
        Scalar("collapse/rankme", row.RankMe);
        Scalar("online/linear_probe", row.OnlineLinearProbe);
        Scalar("online/knn", row.OnlineKnn);
        Scalar("online/seconds", row.OnlineSeconds);
    }

    public void Flush()
    {
        json.Flush();
        csv.Flush();
        lastFlush = DateTime.UtcNow;
    }

    public void Dispose()
    {
        if (pending.Count > 0 && termNames is null)
        {
            // A run that ended before its first step: still write what was measured.
            termNames = [];
            csv.WriteLine(string.Join(',', Columns(termNames)));
            foreach (var p in pending) WriteRow(p);
            pending.Clear();
        }
        json.Dispose();
        csv.Dispose();
    }

    /// <summary>The CSV columns for these loss terms.</summary>
    private static string[] Columns(IEnumerable<string> termNames) => [.. Fixed, .. termNames.Select(n => "loss/" + n), .. Trailing];

    /// <summary>
    /// A CSV row written under <paramref name="from"/> in the columns <paramref name="to"/>, by name: a file written by
    /// an earlier version (fewer trailing columns) continues with the current ones, its rows getting empty cells.
    /// </summary>
    private static string Reorder(string line, string[] from, string[] to)
    {
        if (from.AsSpan().SequenceEqual(to)) return line;
        var cells = line.Split(',');
        var index = from.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i);
        return string.Join(',', to.Select(name => index.TryGetValue(name, out var i) && i < cells.Length ? cells[i] : ""));
    }

    /// <summary>Drops the rows after <paramref name="step"/> from a file; returns the CSV's term names when it has a header.
    /// The CSV keeps the current columns (<see cref="Reorder"/>).</summary>
    private static string[]? KeepRowsUpTo(string path, long step, Func<string, long> stepOf, bool header)
    {
        if (!File.Exists(path)) return null;
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return null;
        var kept = new List<string>();
        string[]? names = null;
        var start = 0;
        string[]? written = null, current = null;
        if (header)
        {
            written = lines[0].Split(',');
            names = written.Where(c => c.StartsWith("loss/", StringComparison.Ordinal)).Select(c => c["loss/".Length..]).ToArray();
            current = Columns(names);
            kept.Add(string.Join(',', current));
            start = 1;
        }
        for (var i = start; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            long s;
            try { s = stepOf(lines[i]); }
            catch (Exception e) when (e is FormatException or JsonException or KeyNotFoundException or ArgumentOutOfRangeException)
            {
                break; // a torn last line of an interrupted run
            }
            if (s <= step) kept.Add(written is null ? lines[i] : Reorder(lines[i], written, current!));
        }
        if (header && kept.Count == 1 && names is { Length: 0 })
        {
            kept.Clear(); // only the header of a run without a step: the next run writes its own
            names = null;
        }
        var temp = path + ".tmp";
        File.WriteAllLines(temp, kept);
        File.Move(temp, path, overwrite: true);
        return names;
    }
}
