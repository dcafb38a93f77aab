using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>Token indices for one batch: <c>Context</c> (B, Nc) and <c>Target</c> (B, Nt), both int64, row-major positions.</summary>
public sealed record TokenMasks(Tensor Context, Tensor Target);

/// <summary>A token mask (<c>block_mask</c>, <c>random_mask</c> in token mode), sampled per batch from a generator.</summary>
public interface ITokenMask
{
    /// <summary>The token grid (rows, columns) the indices refer to.</summary>
    (int H, int W) Grid { get; }

    /// <summary>Samples the context and target indices of a batch of <paramref name="batch"/> samples.</summary>
    TokenMasks Sample(long batch, Generator g);
}
