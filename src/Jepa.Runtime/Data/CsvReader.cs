using System.Globalization;
using System.IO.Compression;
using static TorchSharp.torch;

namespace Jepa.Runtime.Data;

/// <summary>Reads numeric CSV (plain or gzip, detected by its magic bytes) into a <see cref="JepaDataset"/>.</summary>
internal static class CsvReader
{
    public static JepaDataset Read(Stream raw, string name, CsvOptions options)
    {
        using var reader = new StreamReader(Compression.Decompressed(raw, name));
        var features = new List<float>();
        var labels = new List<long>();
        var lines = new List<long>();
        int width = -1, labelColumn = -1;
        long firstLine = 0, lineNumber = 0;
        var headerPending = options.HasHeader;
        string? line;
        while ((line = ReadLine(reader, name)) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (BinaryAt(line) is { } at)
                throw new DataException($"{name}:{lineNumber}: this is not CSV text: character U+{(int)line[at]:X4} at column {at + 1} (a binary file, or compressed in a format other than gzip?).");
            if (headerPending) { headerPending = false; continue; }
            var fields = Split(line, options.Separator);
            if (width < 0)
            {
                width = fields.Count;
                firstLine = lineNumber;
                if (options.Label.Column is int column)
                {
                    labelColumn = column < 0 ? width + column : column;
                    if (labelColumn < 0 || labelColumn >= width)
                        throw new DataException($"{name}:{lineNumber}: the label column {column} does not exist; the row has {width} values.");
                    if (width < 2) throw new DataException($"{name}:{lineNumber}: a row needs at least one feature besides the label.");
                }
            }
            else if (fields.Count != width)
            {
                throw new DataException($"{name}:{lineNumber}: expected {width} values (as on line {firstLine}), found {fields.Count}.");
            }
            for (var c = 0; c < fields.Count; c++)
            {
                var text = fields[c];
                if (c == labelColumn)
                {
                    if (!TryParseLabel(text, out var label))
                        throw new DataException($"{name}:{lineNumber}: the label '{text}' in column {c + 1} is not a class index (0, 1, 2, ...).");
                    labels.Add(label);
                    continue;
                }
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    var hint = features.Count == 0 && !options.HasHeader ? " If the first line holds column names, set HasHeader." : "";
                    throw new DataException($"{name}:{lineNumber}: the value '{text}' in column {c + 1} is not a number.{hint}");
                }
                features.Add((float)value);
            }
            lines.Add(lineNumber);
        }
        if (width < 0) throw new DataException($"{name} has no samples.");

        var featureCount = labelColumn >= 0 ? width - 1 : width;
        var data = features.ToArray();
        Scale(data, options.Scaling);
        var x = tensor(data, [lines.Count, featureCount]);
        var y = labelColumn >= 0 ? tensor(labels.ToArray()) : null;
        return new JepaDataset(x, y, name, lines.ToArray());
    }

    /// <summary>A class index: a non-negative integer, also written as a whole float ("3.0", as pandas writes).</summary>
    private static bool TryParseLabel(string text, out long label)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out label)) return label >= 0;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && value == Math.Floor(value) && value < long.MaxValue)
        {
            label = (long)value;
            return true;
        }
        return false;
    }

    private static string? ReadLine(StreamReader reader, string name)
    {
        try { return reader.ReadLine(); }
        catch (InvalidDataException e) { throw new DataException($"{name} is not a valid gzip file: {e.Message}", e); }
        catch (IOException e) { throw new DataException($"{name} could not be read: {e.Message}", e); }
    }

    /// <summary>The index of the first character no CSV text holds (a control character other than tab, or the
    /// replacement character of bytes that are not UTF-8), or null.</summary>
    private static int? BinaryAt(string line)
    {
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\uFFFD' || (char.IsControl(c) && c != '\t')) return i;
        }
        return null;
    }

    private static List<string> Split(string line, char separator)
    {
        var fields = new List<string>();
        foreach (var range in line.AsSpan().Split(separator)) fields.Add(line[range].Trim());
        return fields;
    }

    private static void Scale(float[] data, ValueScaling scaling)
    {
        var divisor = scaling.Kind switch
        {
            ScalingKind.DivideBy => scaling.Divisor,
            ScalingKind.MaxAbs => data.Length == 0 ? 0 : data.Max(v => Math.Abs((double)v)),
            _ => 1,
        };
        if (divisor == 0 || divisor == 1 || !double.IsFinite(divisor)) return;
        for (var i = 0; i < data.Length; i++) data[i] = (float)(data[i] / divisor);
    }
}

/// <summary>Gzip detection by the magic bytes 1f 8b.</summary>
internal static class Compression
{
    public static Stream Decompressed(Stream raw, string name)
    {
        var seekable = raw;
        if (!raw.CanSeek)
        {
            seekable = new MemoryStream();
            raw.CopyTo(seekable);
            seekable.Position = 0;
        }
        Span<byte> magic = stackalloc byte[2];
        var read = ReadMagic(seekable, magic, name);
        return read == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(seekable, CompressionMode.Decompress) : seekable;
    }

    private static int ReadMagic(Stream stream, Span<byte> magic, string name)
    {
        try
        {
            var start = stream.Position;
            var read = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            stream.Position = start;
            return read;
        }
        catch (IOException e) { throw new DataException($"{name} could not be read: {e.Message}", e); }
    }
}
