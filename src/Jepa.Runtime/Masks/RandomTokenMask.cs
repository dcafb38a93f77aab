using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>random_mask(ratio)</c> in token mode: per sample a uniformly random set of <c>Nt = round(ratio * N)</c> tokens
/// (clamped to [1, N - 1]) are the targets and the other <c>N - Nt</c> the context; both sorted ascending.
/// </summary>
public sealed class RandomTokenMask : ITokenMask
{
    /// <summary>Creates the mask on a grid; <paramref name="ratio"/> in (0, 1).</summary>
    public RandomTokenMask((int H, int W) grid, double ratio)
    {
        if (grid.H < 1 || grid.W < 1 || grid.H * grid.W < 2) throw new ArgumentOutOfRangeException(nameof(grid), grid, "random_mask needs at least two tokens.");
        if (!(ratio > 0 && ratio < 1)) throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "random_mask needs a ratio in (0, 1).");
        Grid = grid;
        Ratio = ratio;
        var n = grid.H * grid.W;
        TargetCount = Math.Clamp((int)Math.Round(ratio * n, MidpointRounding.AwayFromZero), 1, n - 1);
    }

    /// <inheritdoc/>
    public (int H, int W) Grid { get; }

    /// <summary>The fraction of tokens that are targets.</summary>
    public double Ratio { get; }

    /// <summary>Nt, the number of target tokens per sample.</summary>
    public int TargetCount { get; }

    /// <inheritdoc/>
    public TokenMasks Sample(long batch, Generator g)
    {
        var n = Grid.H * Grid.W;
        var order = Draw.Uniform([batch, n], g).argsort(1);                          // (B, N): a random permutation per sample
        var target = order[.., ..TargetCount].sort(1).Values;                          // (B, Nt)
        var context = order[.., TargetCount..].sort(1).Values;                         // (B, N - Nt)
        return new TokenMasks(context, target);
    }

    /// <inheritdoc/>
    public override string ToString() => $"random_mask(ratio: {Ratio})";
}
