using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// A corruption of a view (<c>gaussian_noise</c>, <c>feature_dropout</c>, <c>random_mask</c> in vector mode,
/// <c>random_crop</c>, and the image links of <see cref="ImageCorruption"/>). Every random draw comes from
/// <c>g</c>, independently per sample, so a seeded generator gives the same corruption again. The input is not modified.
/// </summary>
public interface ICorruption
{
    /// <summary>The corrupted batch, of the same shape as <paramref name="x"/> (B, ...), except that
    /// <see cref="RandomResizedCrop"/> with an output size of its own changes the last two dimensions.</summary>
    Tensor Apply(Tensor x, Generator g);
}

/// <summary>Composition of corruptions (<c>a then b</c>).</summary>
public static class Corruptions
{
    /// <summary>Applies <paramref name="steps"/> in order: <c>Compose(a, b).Apply(x) = b.Apply(a.Apply(x))</c>.</summary>
    public static ICorruption Compose(params ICorruption[] steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        return steps.Length == 1 ? steps[0] : new Composed(steps.ToArray());
    }

    private sealed class Composed(ICorruption[] steps) : ICorruption
    {
        public Tensor Apply(Tensor x, Generator g)
        {
            var y = x;
            foreach (var step in steps) y = step.Apply(y, g);
            return ReferenceEquals(y, x) ? x.alias() : y;
        }

        public override string ToString() => string.Join(" then ", steps.Select(s => s.ToString()));
    }
}

/// <summary>Random draws on the generator's device, moved to the data's device and type.</summary>
internal static class Draw
{
    public static Tensor Uniform(long[] shape, Generator g, Tensor like) =>
        rand(shape, dtype: ScalarType.Float32, device: g.device, generator: g).to(like.dtype, like.device);

    public static Tensor Normal(long[] shape, Generator g, Tensor like) =>
        randn(shape, dtype: ScalarType.Float32, device: g.device, generator: g).to(like.dtype, like.device);

    public static Tensor Uniform(long[] shape, Generator g) => rand(shape, dtype: ScalarType.Float32, device: g.device, generator: g);

    public static Tensor Integers(long high, long[] shape, Generator g) => randint(0, high, shape, dtype: ScalarType.Int64, device: g.device, generator: g);
}
