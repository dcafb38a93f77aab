using System.Text.Json.Serialization;

namespace Jepa.Runtime.Schedules;

/// <summary>
/// A value that moves from <see cref="Start"/> to <see cref="End"/> over training; <c>new Ramp(x)</c> is the constant x.
/// How it is traversed depends on its use (see <see cref="TrainingSchedule"/>): the EMA momentum follows it linearly
/// (I-JEPA), the weight decay follows a half cosine under <see cref="LrScheduleKind.WarmupCosine"/> (I-JEPA's
/// CosineWDSchedule) and linearly otherwise.
/// </summary>
public sealed record Ramp(double Start, double End)
{
    /// <summary>The constant <paramref name="constant"/>.</summary>
    public Ramp(double constant) : this(constant, constant)
    {
    }

    /// <summary>True when <see cref="Start"/> equals <see cref="End"/>.</summary>
    [JsonIgnore]
    public bool IsConstant => Start.Equals(End);

    /// <summary>Linear interpolation: <c>Start + (End - Start) * progress</c>, progress clamped to [0, 1].</summary>
    public double Linear(double progress) => IsConstant ? Start : Start + (End - Start) * Clamp01(progress);

    /// <summary>
    /// Half-cosine interpolation: <c>End + (Start - End) * 0.5 * (1 + cos(pi * progress))</c>, progress clamped to
    /// [0, 1]; equals <see cref="Start"/> at 0 and <see cref="End"/> at 1.
    /// </summary>
    public double Cosine(double progress) =>
        IsConstant ? Start : End + (Start - End) * 0.5 * (1.0 + Math.Cos(Math.PI * Clamp01(progress)));

    /// <inheritdoc />
    public override string ToString() => IsConstant
        ? Start.ToString("R", System.Globalization.CultureInfo.InvariantCulture)
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Start:R} -> {End:R}");

    private static double Clamp01(double progress) => double.IsNaN(progress) ? 0 : Math.Clamp(progress, 0.0, 1.0);
}
