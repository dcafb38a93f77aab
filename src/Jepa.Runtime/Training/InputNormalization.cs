using System.Globalization;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>
/// Per-channel input normalisation, <c>x' = (x - Mean[c]) / Std[c]</c>, applied by
/// <see cref="JepaExperiment.Normalize"/> after any augmentation (augmentations see the data as loaded, [0, 1] pixels).
/// <para>
/// Channels: a sample of rank 3 or more (<c>float[c, h, w]</c>) has <c>c</c> channels, its first axis, and each gets its
/// own mean and standard deviation over all samples and positions, as torchvision's <c>Normalize</c> has it. A sample of
/// rank 1 or 2 (<c>float[d]</c>, <c>float[h, w]</c>) is one channel: one mean and one standard deviation over every
/// value. A vector is not standardised feature by feature: a flattened image is one channel, and features that are
/// (nearly) constant, such as the always-black border pixels of the digits, would be divided by (nearly) zero.
/// </para>
/// <para>
/// <see cref="Mean"/> and <see cref="Std"/> hold one value per channel, or one value for every channel.
/// <see cref="Samples"/> is the number of training samples they were computed on (<see cref="Compute"/>), or null when
/// they were declared. docs/runtime-training.md, "Normalisation".
/// </para>
/// </summary>
public sealed record InputNormalization(IReadOnlyList<double> Mean, IReadOnlyList<double> Std, long? Samples = null)
{
    /// <summary>Samples read at most by <see cref="Compute"/> (a seeded random subset of larger data sets).</summary>
    public const int MaxSamples = 50_000;

    /// <summary>Below this, a channel's standard deviation is taken as 1: a constant channel is only centred.</summary>
    public const double MinStd = 1e-6;

    /// <summary>Mixed into the run seed to draw the samples of <see cref="Compute"/>.</summary>
    internal const long Seed = 0x6E6F726D616C; // "normal"

    /// <summary>No normalisation: mean 0 and standard deviation 1 for every channel.</summary>
    public static InputNormalization None { get; } = new([0.0], [1.0]);

    /// <summary>True when this changes nothing (every mean 0, every standard deviation 1).</summary>
    [JsonIgnore]
    public bool IsIdentity => Mean.All(m => m == 0) && Std.All(s => s == 1);

    /// <summary>
    /// The mean and the (population) standard deviation of each channel over the training data: every sample when there
    /// are at most <see cref="MaxSamples"/>, else that many drawn at random by <paramref name="seed"/>. Accumulated in
    /// batches of 256 samples, each batch's statistics combined with the others' in float64 (Chan's parallel update).
    /// </summary>
    public static InputNormalization Compute(ITrainingData data, long seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        double[]? mean = null, m2 = null;
        double n = 0;
        long samples = 0;
        foreach (var batch in data.Batches(256, seed ^ Seed, 0, dropLast: false))
        {
            using var scope = NewDisposeScope();
            var x = batch.MoveToOtherDisposeScope(scope).to(ScalarType.Float32);
            if (samples + x.shape[0] > MaxSamples) x = x.narrow(0, 0, MaxSamples - samples);
            samples += x.shape[0];
            // (channels, values of the channel in this batch); each batch's mean and variance in float32 (torch's
            // reductions sum pairwise), combined across batches in float64.
            var values = x.dim() >= 4 ? x.transpose(0, 1).reshape(x.shape[1], -1) : x.reshape(1, -1);
            var count = (double)values.shape[1];
            var bm = values.mean([1]).to(ScalarType.Float64).cpu().data<double>().ToArray();
            var b2 = (values.var(1, unbiased: false).to(ScalarType.Float64) * count).cpu().data<double>().ToArray();
            mean ??= new double[bm.Length];
            m2 ??= new double[bm.Length];
            if (bm.Length != mean.Length) throw new InvalidOperationException("The training data's batches have different channel counts.");
            var total = n + count;
            for (var c = 0; c < mean.Length; c++)
            {
                var delta = bm[c] - mean[c];
                mean[c] += delta * count / total;
                m2[c] += b2[c] + delta * delta * n * count / total;
            }
            n = total;
            if (samples >= MaxSamples) break;
        }
        if (mean is null || m2 is null || n == 0) throw new ArgumentException("The training data has no samples to compute the normalisation on.", nameof(data));
        var std = m2.Select(v => Math.Sqrt(v / n)).Select(s => s < MinStd ? 1.0 : s).ToArray();
        return new InputNormalization(mean, std, samples);
    }

    /// <summary>Every problem with these values, as sentences (see <see cref="ExperimentOptions.Problems"/>).</summary>
    internal IEnumerable<string> Problems()
    {
        if (Mean is null || Std is null || Mean.Count == 0 || Mean.Count != Std.Count)
            yield return $"Normalization needs as many means as standard deviations, at least one (has {Mean?.Count ?? 0} and {Std?.Count ?? 0}).";
        else if (Mean.Any(m => !double.IsFinite(m)) || Std.Any(s => !double.IsFinite(s) || s <= 0))
            yield return $"Normalization needs finite means and positive, finite standard deviations (is {this}).";
    }

    /// <inheritdoc/>
    public bool Equals(InputNormalization? other) =>
        other is not null && Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std) && Samples == other.Samples;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Mean.Count, Mean.Count > 0 ? Mean[0] : 0, Std.Count > 0 ? Std[0] : 0, Samples);

    /// <inheritdoc/>
    public override string ToString() =>
        $"mean [{Join(Mean)}], std [{Join(Std)}]" + (Samples is { } n ? $" (computed on {n} training samples)" : " (declared)");

    private static string Join(IEnumerable<double> values) => string.Join(", ", values.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)));
}

/// <summary>
/// An <see cref="InputNormalization"/> as float32 tensors on a device, shaped for batches of one rank: what
/// <see cref="JepaExperiment.Normalize"/> applies. Its tensors live outside any dispose scope until it is disposed.
/// </summary>
internal sealed class Normalizer : IDisposable
{
    private readonly InputNormalization stats;
    private readonly long rank;
    private readonly long channels;
    private readonly DeviceType deviceType;
    private readonly int deviceIndex;
    private readonly Tensor? mean;
    private readonly Tensor? std;

    public Normalizer(InputNormalization stats, Tensor samples)
    {
        this.stats = stats;
        rank = samples.dim();
        deviceType = samples.device_type;
        deviceIndex = samples.device_index;
        if (stats.IsIdentity) return;
        // (B, C, H, W, ...): one value per channel of axis 1; (B, d) and (B, H, W): one channel.
        channels = rank >= 4 ? samples.shape[1] : 1;
        if (stats.Mean.Count != 1 && stats.Mean.Count != channels)
            throw new ArgumentException(rank >= 4
                ? $"The normalisation has {stats.Mean.Count} channels, but the samples have {channels} (axis 1 of the batch)."
                : $"The normalisation has {stats.Mean.Count} channels, but samples of rank {rank - 1} are one channel (docs/runtime-training.md, \"Normalisation\").");
        var shape = Enumerable.Repeat(1L, (int)rank).ToArray();
        if (rank >= 4) shape[1] = stats.Mean.Count;
        using var scope = NewDisposeScope();
        mean = tensor(stats.Mean.Select(m => (float)m).ToArray(), device: samples.device).reshape(shape).DetachFromDisposeScope();
        std = tensor(stats.Std.Select(s => (float)s).ToArray(), device: samples.device).reshape(shape).DetachFromDisposeScope();
    }

    /// <summary>Whether this serves <paramref name="normalization"/> for <paramref name="samples"/> (same values, rank, channels and device).</summary>
    public bool Fits(InputNormalization normalization, Tensor samples) =>
        ReferenceEquals(normalization, stats) && samples.dim() == rank && (rank < 4 || samples.shape[1] == channels) &&
        samples.device_type == deviceType && samples.device_index == deviceIndex;

    /// <summary><c>(samples - mean) / std</c>, a new tensor; <paramref name="samples"/> itself when the normalisation changes nothing.</summary>
    public Tensor Apply(Tensor samples) => mean is null ? samples : samples.sub(mean).div_(std!);

    public void Dispose()
    {
        mean?.Dispose();
        std?.Dispose();
    }
}
