using System.Globalization;
using Jepa.Runtime.Training;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Jepa.Runner;

/// <summary>
/// Shows training progress: a live Spectre.Console panel on an interactive terminal (step, epoch, loss terms, lr,
/// momentum, collapse std and rank, steps/s, ETA), plain lines otherwise (redirected output, CI, <c>--plain</c>).
/// </summary>
internal abstract class ProgressDisplay : IProgress<StepReport>, IDisposable
{
    public static ProgressDisplay Create(TextWriter output, bool plain)
    {
        var interactive = !plain && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected &&
                          AnsiConsole.Profile.Capabilities.Interactive && AnsiConsole.Profile.Capabilities.Ansi;
        return interactive ? new Live() : new Plain(output);
    }

    public abstract void Report(StepReport value);

    public virtual void Dispose()
    {
    }

    internal static string Format(double value) => value.ToString(Math.Abs(value) is >= 1e-3 and < 1e4 or 0 ? "0.####" : "0.###e+0", CultureInfo.InvariantCulture);

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
            output.WriteLine($"step {r.Step}/{r.TotalSteps} epoch {r.Epoch} | loss {Format(r.Loss)} ({terms}) | lr {Format(r.LearningRate)}{collapse} | {r.StepsPerSecond:F0} steps/s, ETA {Eta(r.Remaining)}");
            if (r.Alarm is { } alarm) output.WriteLine($"collapse alarm at step {alarm.Step}: {alarm.Message}");
        }
    }

    /// <summary>A live panel, redrawn at most 10 times a second from the training thread's reports.</summary>
    private sealed class Live : ProgressDisplay
    {
        private readonly object gate = new();
        private readonly Thread thread;
        private readonly ManualResetEventSlim done = new();
        private StepReport? latest;
        private CollapseReading? collapse;
        private int alarms;

        public Live()
        {
            thread = new Thread(Render) { IsBackground = true, Name = "jepa-progress" };
            thread.Start();
        }

        public override void Report(StepReport value)
        {
            lock (gate)
            {
                latest = value;
                if (value.Collapse is { } c) collapse = c;
                if (value.Alarm is not null) alarms++;
            }
        }

        private void Render()
        {
            AnsiConsole.Live(Build()).AutoClear(false).Start(context =>
            {
                while (!done.Wait(100)) context.UpdateTarget(Build());
                context.UpdateTarget(Build());
            });
        }

        private IRenderable Build()
        {
            StepReport? r;
            CollapseReading? c;
            int a;
            lock (gate)
            {
                r = latest;
                c = collapse;
                a = alarms;
            }

            var table = new Table().Border(TableBorder.Rounded).HideHeaders().AddColumn("name").AddColumn("value");
            if (r is null) return table.AddRow("step", "starting...");
            var fraction = r.TotalSteps == 0 ? 0 : (double)r.Step / r.TotalSteps;
            table.AddRow("step", $"{r.Step} / {r.TotalSteps}  (epoch {r.Epoch})  [green]{new string('#', (int)(fraction * 30))}[/]{new string('.', 30 - (int)(fraction * 30))}");
            table.AddRow("loss", Format(r.Loss));
            foreach (var term in r.Terms) table.AddRow($"  {Markup.Escape(term.Key)}", Format(term.Value));
            table.AddRow("lr / wd", $"{Format(r.LearningRate)} / {Format(r.WeightDecay)}");
            if (r.EmaMomentum is { } m) table.AddRow("EMA momentum", m.ToString("0.#####", CultureInfo.InvariantCulture));
            table.AddRow("grad norm", Format(r.GradientNorm));
            table.AddRow("collapse std / rank", c is null ? "-" : $"{c.Std:F4} / {c.RankMe:F1}{(a > 0 ? $"  [red]{a} alarm(s)[/]" : string.Empty)}");
            table.AddRow("speed", $"{r.StepsPerSecond:F0} steps/s, ETA {Eta(r.Remaining)}");
            return table;
        }

        public override void Dispose()
        {
            done.Set();
            thread.Join();
            done.Dispose();
        }
    }
}
