using static TorchSharp.torch;

namespace Jepa.Runtime.Models;

/// <summary>Operations on token tensors <c>(B, N, D)</c>.</summary>
public static class Tokens
{
    /// <summary>The tokens at the given positions of each sample: (B, N, D) and (B, K) long -> (B, K, D).</summary>
    public static Tensor Gather(Tensor tokens, Tensor idx)
    {
        if (tokens.dim() != 3) throw new ArgumentException($"Gather expects tokens (B, N, D), got {Shapes.Format(tokens.shape)}.", nameof(tokens));
        if (idx.dim() != 2 || idx.shape[0] != tokens.shape[0])
            throw new ArgumentException($"Gather expects indices (B, K) with B = {tokens.shape[0]}, got {Shapes.Format(idx.shape)}.", nameof(idx));
        return tokens.gather(1, idx.unsqueeze(-1).expand(idx.shape[0], idx.shape[1], tokens.shape[2]));
    }

    /// <summary>The mean over tokens: (B, N, D) -> (B, D).</summary>
    public static Tensor MeanPool(Tensor tokens) => tokens.mean([1]);

    /// <summary>Rows of a positional table at the given positions: (N, D) and (B, K) -> (B, K, D).</summary>
    internal static Tensor Positions(Tensor table, Tensor idx) => table.index_select(0, idx.reshape(-1)).reshape(idx.shape[0], idx.shape[1], table.shape[1]);
}
