using System.Globalization;
using ScottPlot;

namespace Jepa.Runner;

/// <summary>Draws <c>training.png</c> from the run folder's <c>metrics.csv</c>: the loss terms, and the collapse metrics.</summary>
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

        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        var loss = multiplot.GetPlot(0);
        var terms = header.Where(h => h.StartsWith("loss/", StringComparison.Ordinal)).ToList();
        // One term is the total itself: draw it once.
        foreach (var name in terms.Count > 1 ? ["loss", .. terms] : new[] { "loss" })
        {
            var values = Column(name, out var steps);
            if (values.Length == 0) continue;
            var line = loss.Add.ScatterLine(steps, values);
            line.LegendText = name == "loss" ? (terms.Count == 1 ? terms[0].Substring(5) : "total loss") : name.Substring(5);
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
        var path = Path.Combine(folder, FileName);
        multiplot.SavePng(path, 800, 700);
        return path;
    }

    private static double Parse(string cell) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : double.NaN;
}
