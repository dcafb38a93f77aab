using System.Globalization;
using Jepa.Runtime.Training;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Jepa.Runner;

/// <summary>
/// Shows training progress: a live Spectre.Console panel on an interactive terminal (step, epoch, loss terms, lr,
/// momentum, collapse std and rank, steps/s, ETA), plain lines otherwise (redirected output, CI, <c>--plain</c>).
/// Everything runs on the training thread: TorchSharp 0.107 passes implicitly converted scalars to native code without
/// keeping them alive, so a garbage collection started by another thread during such a call can free one (it surfaces
/// as "Expected false to be true ... toDouble" from libtorch). A display thread allocating while training did exactly
/// that; rendering from the progress callback, at most 10 times a second, does not.
/// </summary>
internal abstract class ProgressDisplay : IProgress<StepReport>
{
    public static ProgressDisplay Create(TextWriter output, bool plain)
    {
        var interactive = !plain && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected &&
                          AnsiConsole.Profile.Capabilities.Interactive && AnsiConsole.Profile.Capabilities.Ansi;
        return interactive ? new Live() : new Plain(output);
    }

    /// <summary>Runs <paramref name="work"/> (the training) with this display receiving its progress.</summary>
    public virtual T Run<T>(Func<IProgress<StepReport>, T> work) => work(this);

    public abstract void Report(StepReport value);

    internal static string Format(double value) => value.ToString(Math.Abs(value) is >= 1e-3 and < 1e4 or 0 ? "0.####" : "0.###e+0", CultureInfo.InvariantCulture);

    /// <summary>The latest online evaluation, e.g. "online: linear 93.1 %, kNN 94.0 % (latest 0.21 s, 1.3 s in all)"; empty without one.</summary>
    internal static string Online(StepReport r) =>
        r.Online is { } o ? $"online: linear {o.LinearProbe * 100:F1} %, kNN {o.Knn * 100:F1} % (latest {o.Seconds:F2} s, {r.OnlineSeconds:F1} s in all)" : string.Empty;

    /// <summary>The summary line after training: the last online evaluation and what they all cost; null without one.</summary>
    internal static string? Online(IReadOnlyList<OnlineReading> readings) => readings.Count == 0
        ? null
        : $"Online evaluation at step {readings[^1].Step}: linear probe {readings[^1].LinearProbe * 100:F1} %, kNN {readings[^1].Knn * 100:F1} % " +
          $"({readings.Count} evaluations, {readings.Sum(r => r.Seconds):F1} s in all, {readings.Average(r => r.Seconds):F2} s each).";

    internal static string Eta(TimeSpan? remaining) => remaining is { } r ? (r.TotalHours >= 1 ? r.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : r.ToString(@"m\:ss", CultureInfo.InvariantCulture)) : "-";

    /// <summary>Plain lines: at most about 20 per run, plus every collapse reading and alarm.</summary>
    private sealed class Plain(TextWriter output) : ProgressDisplay
    {
        private long lastPrinted = -1;

        public override void Report(StepReport r)
        {
            var every = Math.Max(1, r.TotalSteps / 20);
            var due = r.Step == r.TotalSteps || r.Step / every != lastPrinted / every || r.Alarm is not null;
            if (!due) return;
            lastPrinted = r.Step;
            var terms = string.Join(" ", r.Terms.Select(t => $"{t.Key} {Format(t.Value)}"));
            var collapse = r.Collapse is { } c ? $" | std {c.Std:F4} rank {c.RankMe:F1}" : string.Empty;
            var online = r.Online is null ? string.Empty : " | " + Online(r);
            output.WriteLine($"step {r.Step}/{r.TotalSteps} epoch {r.Epoch} | loss {Format(r.Loss)} ({terms}) | lr {Format(r.LearningRate)}{collapse}{online} | {r.StepsPerSecond:F0} steps/s, ETA {Eta(r.Remaining)}");
            if (r.Alarm is { } alarm) output.WriteLine($"collapse alarm at step {alarm.Step}: {alarm.Message}");
        }
    }

    /// <summary>A live panel, redrawn from the training thread at most 10 times a second.</summary>
    private sealed class Live : ProgressDisplay
    {
        private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
        private readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
        private LiveDisplayContext? context;
        private StepReport? latest;
        private CollapseReading? collapse;
        private int alarms;
        private TimeSpan? lastDrawn;

        public override T Run<T>(Func<IProgress<StepReport>, T> work)
        {
            T result = default!;
            AnsiConsole.Live(Build()).AutoClear(false).Start(ctx =>
            {
                context = ctx;
                result = work(this);
                ctx.UpdateTarget(Build());
            });
            return result;
        }

        public override void Report(StepReport value)
        {
            latest = value;
            if (value.Collapse is { } c) collapse = c;
            if (value.Alarm is not null) alarms++;
            if (context is null || (clock.Elapsed - lastDrawn < Interval && value.Step != value.TotalSteps && value.Alarm is null)) return;
            lastDrawn = clock.Elapsed;
            context.UpdateTarget(Build());
        }

        private IRenderable Build()
        {
            var r = latest;
            var table = new Table().Border(TableBorder.Rounded).HideHeaders().AddColumn("name").AddColumn("value");
            if (r is null) return table.AddRow("step", "starting...");
            var fraction = r.TotalSteps == 0 ? 0 : (double)r.Step / r.TotalSteps;
            table.AddRow("step", $"{r.Step} / {r.TotalSteps}  (epoch {r.Epoch})  [green]{new string('#', (int)(fraction * 30))}[/]{new string('.', 30 - (int)(fraction * 30))}");
            table.AddRow("loss", Format(r.Loss));
            foreach (var term in r.Terms) table.AddRow($"  {Markup.Escape(term.Key)}", Format(term.Value));
            table.AddRow("lr / wd", $"{Format(r.LearningRate)} / {Format(r.WeightDecay)}");
            if (r.EmaMomentum is { } m) table.AddRow("EMA momentum", m.ToString("0.#####", CultureInfo.InvariantCulture));
            table.AddRow("grad norm", Format(r.GradientNorm));
            table.AddRow("collapse std / rank", collapse is null ? "-" : $"{collapse.Std:F4} / {collapse.RankMe:F1}{(alarms > 0 ? $"  [red]{alarms} alarm(s)[/]" : string.Empty)}");
            if (r.Online is not null) table.AddRow("online evaluation", Markup.Escape(Online(r)["online: ".Length..]));
            table.AddRow("speed", $"{r.StepsPerSecond:F0} steps/s, ETA {Eta(r.Remaining)}");
            return table;
        }
    }
}
