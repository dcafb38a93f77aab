using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>One reading of the collapse monitor.</summary>
/// <param name="Step">Steps completed when it was taken (0: before training).</param>
/// <param name="Std">Std of the L2-normalised embeddings, mean over dimensions (0 under collapse, about 1/sqrt(d) when isotropic).</param>
/// <param name="RankMe">RankMe effective rank of the embeddings (1 under collapse, at most min(N, d)).</param>
public sealed record CollapseReading(long Step, double Std, double RankMe);

/// <summary>A collapse alarm: a reading below a threshold of <see cref="CollapseMonitorOptions"/>.</summary>
public sealed record CollapseAlarm(long Step, double Std, double RankMe, CollapseAction Action, string Message);

/// <summary>
/// Collapse metrics on a batch of embeddings (N, d); token embeddings (N, T, d) are mean-pooled per sample first, to
/// (N, d): a sample is one point, as the probes see it (read token by token, tokens that differ only by their position
/// look healthy while every sample maps to the same point). Neither metric centres or standardises the features first:
/// standardising would hide collapse (calibration.md).
/// </summary>
public static class CollapseMetrics
{
    /// <summary>
    /// Each embedding divided by its L2 norm (as is, not centred), then the standard deviation of each dimension over
    /// the batch (unbiased), averaged over dimensions.
    /// </summary>
    public static double EmbeddingStd(Tensor embeddings)
    {
        using var scope = NewDisposeScope();
        var z = Flatten(embeddings).to(ScalarType.Float64);
        var normalised = nn.functional.normalize(z, p: 2, dim: 1);
        return normalised.std(0).mean().item<double>();
    }

    /// <summary>
    /// RankMe (Garrido et al., 2023): <c>exp(-sum_k p_k log p_k)</c> with <c>p_k = sigma_k / sum(sigma) + 1e-7</c> and
    /// sigma the singular values of the embedding matrix.
    /// </summary>
    public static double RankMe(Tensor embeddings)
    {
        using var scope = NewDisposeScope();
        var z = Flatten(embeddings).to(ScalarType.Float64);
        var sigma = linalg.svdvals(z);
        var p = sigma / sigma.sum() + 1e-7;
        return exp(-(p * log(p)).sum()).item<double>();
    }

    private static Tensor Flatten(Tensor embeddings)
    {
        if (embeddings.dim() < 2) throw new ArgumentException($"Collapse metrics need embeddings of shape (N, d); got [{string.Join(", ", embeddings.shape)}].");
        if (embeddings.shape[0] < 2) throw new ArgumentException("Collapse metrics need at least two embeddings.");
        var detached = embeddings.detach();
        return detached.dim() == 2 ? detached : detached.reshape(detached.shape[0], -1, detached.shape[^1]).mean([1]);
    }
}
