using System.Globalization;
using System.Text.RegularExpressions;
using Jepa.Runtime.Data;

namespace Jepa.Runner;

/// <summary>
/// Opens what a data option names (<see cref="DataSources.Open"/>; the embedded digits when it names nothing) with the
/// loader options of the command line (<c>--skip-bad-files</c>, <c>--cache-memory</c>, <c>--data-workers</c>).
/// </summary>
internal static partial class DataFiles
{
    public static DataSource Load(IReadOnlyList<string> paths, long[] inputShape, RunSettings settings, Action<string> log)
    {
        var loaded = DataSources.Open(paths, new DataOptions
        {
            InputShape = inputShape,
            Workers = settings.DataWorkers,
            CacheBytes = settings.CacheMemory,
            SkipBadFiles = settings.SkipBadFiles,
            Log = log,
        });
        var description = paths.Count == 0 ? loaded.Layout : string.Join(" ", paths);
        return new DataSource(description, [.. paths.Select(Path.GetFullPath)], loaded);
    }

    /// <summary>
    /// A memory size: a whole or decimal number with an optional binary unit (K, M, G, T; KB, KiB and the like mean
    /// the same powers of 1024), for example 0, 512M, 1.5G, 2GiB, 100000. Null when the text is none of these.
    /// </summary>
    public static long? ParseSize(string text)
    {
        var match = SizePattern().Match(text.Trim());
        if (!match.Success || !double.TryParse(match.Groups["number"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) return null;
        var power = match.Groups["unit"].Value.ToUpperInvariant() switch
        {
            "" or "B" => 0,
            "K" => 1,
            "M" => 2,
            "G" => 3,
            _ => 4,
        };
        var bytes = number * Math.Pow(1024, power);
        return bytes is >= 0 and < long.MaxValue ? (long)bytes : null;
    }

    [GeneratedRegex(@"^(?<number>\d+(\.\d+)?)\s*((?<unit>[KMGTkmgt])(i?[Bb])?|(?<unit>[Bb]))?$", RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();
}
