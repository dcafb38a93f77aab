using static TorchSharp.torch;

namespace Jepa.Runtime.Losses;

/// <summary>
/// Prediction losses between the predicted and the target representation, both <c>(B, D)</c> or tokens
/// <c>(B, N, D)</c> of the same shape. Each returns a scalar: the mean over every element (mse, smooth_l1, l1) or over
/// every vector (cosine, info_nce).
/// </summary>
public static class Loss
{
    /// <summary><c>mse</c>: <c>mean((p - t)^2)</c>.</summary>
    public static Tensor Mse(Tensor pred, Tensor target)
    {
        CheckSameShape(pred, target);
        return nn.functional.mse_loss(pred, target);
    }

    /// <summary>
    /// <c>smooth_l1(beta)</c> (I-JEPA's loss): <c>mean(l(p - t))</c> with <c>l(x) = 0.5 x^2 / beta</c> for
    /// <c>|x| &lt; beta</c>, else <c>|x| - 0.5 beta</c>.
    /// </summary>
    public static Tensor SmoothL1(Tensor pred, Tensor target, double beta = 1.0)
    {
        CheckSameShape(pred, target);
        if (!(beta > 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "smooth_l1 needs beta > 0.");
        return nn.functional.smooth_l1_loss(pred, target, beta: beta);
    }

    /// <summary><c>l1</c> (V-JEPA's loss): <c>mean(|p - t|)</c>.</summary>
    public static Tensor L1(Tensor pred, Tensor target)
    {
        CheckSameShape(pred, target);
        return nn.functional.l1_loss(pred, target);
    }

    /// <summary>
    /// <c>cosine</c>: <c>1 - mean_i cos(p_i, t_i)</c> over the vectors along the last dimension, with
    /// <c>cos(a, b) = a.b / (max(|a|, 1e-8) max(|b|, 1e-8))</c>. In [0, 2].
    /// </summary>
    public static Tensor Cosine(Tensor pred, Tensor target)
    {
        CheckSameShape(pred, target);
        return 1 - (Normalize(pred) * Normalize(target)).sum([-1]).mean();
    }

    /// <summary>
    /// <c>info_nce(temperature)</c>, one-directional (the prediction is the query): the vectors are L2-normalised,
    /// <c>s_ij = p_i . t_j / temperature</c> over the <c>M</c> vectors of the batch (tokens flattened, so the other
    /// tokens of the same sample are negatives too), and the loss is the cross-entropy with the positive on the diagonal,
    /// <c>mean_i (-s_ii + log sum_j exp s_ij)</c>. Not symmetrised: a target is not also asked to pick its prediction.
    /// </summary>
    public static Tensor InfoNce(Tensor pred, Tensor target, double temperature)
    {
        CheckSameShape(pred, target);
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "info_nce needs temperature > 0.");
        var p = Normalize(Regularizers.Flatten(pred));                                   // (M, D)
        var t = Normalize(Regularizers.Flatten(target));                                 // (M, D)
        if (p.shape[0] < 2) throw new ArgumentException("info_nce needs at least two vectors in the batch (the others are its negatives).");
        var logits = p.matmul(t.t()) / temperature;                                      // (M, M)
        var positives = arange(p.shape[0], dtype: ScalarType.Int64, device: p.device);  // (M)
        return nn.functional.cross_entropy(logits, positives);
    }

    internal static Tensor Normalize(Tensor x) => x / x.norm(-1, keepdim: true).clamp_min(1e-8);

    internal static void CheckSameShape(Tensor pred, Tensor target)
    {
        if (!pred.shape.SequenceEqual(target.shape))
            throw new ArgumentException($"The prediction [{string.Join(", ", pred.shape)}] and the target [{string.Join(", ", target.shape)}] differ in shape.");
    }
}

/// <summary>Normalisation of the target representation before the loss.</summary>
public static class TargetNorm
{
    /// <summary>
    /// <c>target_norm: layer</c> (I-JEPA): layer normalisation over the last dimension without affine weights,
    /// <c>(t - mean) / sqrt(var + 1e-5)</c> with the biased variance.
    /// </summary>
    public static Tensor Layer(Tensor t) => nn.functional.layer_norm(t, [t.shape[^1]], eps: 1e-5);
}
