namespace Jepa.Runtime.Data;

/// <summary>Where the label of a CSV row is.</summary>
public sealed record CsvLabel
{
    private CsvLabel(int? column) => Column = column;

    /// <summary>The label's column (0-based; negative counts from the end, -1 is the last), or null for no label.</summary>
    public int? Column { get; }

    /// <summary>The last column is the label (the digits file's layout).</summary>
    public static CsvLabel Last { get; } = new(-1);

    /// <summary>Every column is a feature; the data set has no labels.</summary>
    public static CsvLabel None { get; } = new((int?)null);

    /// <summary>The label is in column <paramref name="index"/> (0-based; negative counts from the end).</summary>
    public static CsvLabel At(int index) => new(index);
}

/// <summary>The kinds of <see cref="ValueScaling"/>.</summary>
public enum ScalingKind
{
    /// <summary>Values as read.</summary>
    None,
    /// <summary>Divided by the largest absolute value of the file.</summary>
    MaxAbs,
    /// <summary>Divided by a given number.</summary>
    DivideBy,
}

/// <summary>How feature values are scaled after reading.</summary>
public sealed record ValueScaling
{
    private ValueScaling(ScalingKind kind, double divisor) => (Kind, Divisor) = (kind, divisor);

    /// <summary>none, max-abs or divide-by.</summary>
    public ScalingKind Kind { get; }

    /// <summary>The divisor of <see cref="ScalingKind.DivideBy"/>.</summary>
    public double Divisor { get; }

    /// <summary>Values as read.</summary>
    public static ValueScaling None { get; } = new(ScalingKind.None, 1);

    /// <summary>
    /// Every value divided by the largest absolute value in the whole file (one factor for all features, so an image's
    /// pixels keep their relative intensities); an all-zero file is left as it is.
    /// </summary>
    public static ValueScaling MaxAbs { get; } = new(ScalingKind.MaxAbs, 1);

    /// <summary>Every value divided by <paramref name="divisor"/> (16 for the digits' 0..16 pixels, 255 for bytes).</summary>
    public static ValueScaling DivideBy(double divisor) =>
        divisor != 0 && double.IsFinite(divisor) ? new(ScalingKind.DivideBy, divisor) : throw new ArgumentOutOfRangeException(nameof(divisor), divisor, "The divisor must be finite and non-zero.");
}

/// <summary>Options of <see cref="Datasets.Csv"/>.</summary>
public sealed record CsvOptions
{
    /// <summary>Where the label is; the last column by default.</summary>
    public CsvLabel Label { get; init; } = CsvLabel.Last;

    /// <summary>True when the first non-empty line holds column names, not values.</summary>
    public bool HasHeader { get; init; }

    /// <summary>How the feature values are scaled; none by default.</summary>
    public ValueScaling Scaling { get; init; } = ValueScaling.None;

    /// <summary>The field separator; a comma by default.</summary>
    public char Separator { get; init; } = ',';
}
