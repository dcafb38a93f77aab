using System.Globalization;
using ScottPlot;

namespace Jepa.Runner;

/// <summary>Draws <c>training.png</c> from the run folder's <c>metrics.csv</c>: the loss terms, the collapse metrics, and
/// the online evaluation's accuracies when the run has one.</summary>
internal static class TrainingChart
{
    public const string FileName = "training.png";

    /// <summary>Writes the chart and returns its path; null when the run wrote no metrics.</summary>
    public static string? Write(string folder, string experiment)
    {
        var csv = Path.Combine(folder, "metrics.csv");
        if (!File.Exists(csv)) return null;
        var lines = File.ReadAllLines(csv);
        if (lines.Length < 2) return null;
        var header = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l => l.Split(',')).Where(r => r.Length == header.Length).ToList();
        double[] Column(string name, out double[] steps)
        {
            var index = Array.IndexOf(header, name);
            var points = rows.Select(r => (Step: Parse(r[0]), Value: index < 0 ? double.NaN : Parse(r[index])))
                             .Where(p => double.IsFinite(p.Value)).ToList();
            steps = points.Select(p => p.Step).ToArray();
            return points.Select(p => p.Value).ToArray();
        }

        var linearProbe = Column("online_linear_probe", out var linearSteps);
        var knnAccuracy = Column("online_knn", out var knnSteps);
        var hasOnline = linearProbe.Length > 0 || knnAccuracy.Length > 0;
        var multiplot = new Multiplot();
        multiplot.AddPlots(hasOnline ? 3 : 2);
        var loss = multiplot.GetPlot(0);
        var terms = header.Where(h => h.StartsWith("loss/", StringComparison.Ordinal)).ToList();
        // One term is the total itself: draw it once.
        var series = (terms.Count > 1 ? ["loss", .. terms] : new[] { "loss" })
            .Select(name => (Name: name, Values: Column(name, out var steps), Steps: steps))
            .Where(s => s.Values.Length > 0)
            .ToList();
        // Terms of very different sizes (SIGReg's statistic is hundreds where a prediction loss is 0.05) share a
        // logarithmic axis, or the small ones lie flat on zero.
        var logarithmic = UseLogScale(series.SelectMany(s => s.Values));
        foreach (var (name, values, steps) in series)
        {
            var line = loss.Add.ScatterLine(steps, logarithmic ? values.Select(Math.Log10).ToArray() : values);
            line.LegendText = name == "loss" ? (terms.Count == 1 ? terms[0].Substring(5) : "total loss") : name.Substring(5);
        }

        if (logarithmic)
        {
            loss.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => Decade(Math.Pow(10, y)),
            };
            loss.Axes.Left.Label.Text = "log scale";
        }

        loss.Title($"{experiment}: training loss");
        loss.XLabel("step");
        loss.ShowLegend(Alignment.UpperRight);

        var collapse = multiplot.GetPlot(1);
        var std = Column("embedding_std", out var stdSteps);
        var rank = Column("rankme", out var rankSteps);
        if (std.Length > 0)
        {
            var stdLine = collapse.Add.ScatterLine(stdSteps, std);
            stdLine.LegendText = "std of L2-normalised embeddings";
            stdLine.MarkerSize = 4;
            collapse.Axes.Left.Label.Text = "std";
        }

        if (rank.Length > 0)
        {
            var rankLine = collapse.Add.ScatterLine(rankSteps, rank);
            rankLine.LegendText = "RankMe (right axis)";
            rankLine.Axes.YAxis = collapse.Axes.Right;
            rankLine.MarkerSize = 4;
            collapse.Axes.Right.Label.Text = "RankMe";
        }

        collapse.Title("collapse monitor");
        collapse.XLabel("step");
        collapse.ShowLegend(Alignment.LowerRight);

        if (hasOnline)
        {
            var online = multiplot.GetPlot(2);
            foreach (var (values, steps, label) in new[] { (linearProbe, linearSteps, "linear (ridge) probe"), (knnAccuracy, knnSteps, "kNN") })
            {
                if (values.Length == 0) continue;
                var line = online.Add.ScatterLine(steps, values.Select(v => v * 100).ToArray());
                line.LegendText = label;
                line.MarkerSize = 4;
            }

            online.Title("online evaluation (held-out part of a fixed labelled subset)");
            online.XLabel("step");
            online.Axes.Left.Label.Text = "accuracy (%)";
            online.ShowLegend(Alignment.LowerRight);
        }

        var path = Path.Combine(folder, FileName);
        multiplot.SavePng(path, 800, hasOnline ? 1000 : 700);
        return path;
    }

    /// <summary>True when every value is positive and the largest is more than 100 times the smallest.</summary>
    internal static bool UseLogScale(IEnumerable<double> values)
    {
        double min = double.PositiveInfinity, max = 0;
        foreach (var v in values)
        {
            if (v <= 0) return false;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        return max > 100 * min;
    }

    private static string Decade(double value) =>
        value.ToString(value is >= 1e4 or < 1e-3 ? "0E+0" : "0.###", CultureInfo.InvariantCulture);

    private static double Parse(string cell) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : double.NaN;
}
