using System.Collections.Generic;
using System.Linq;

namespace Jepa.Dsl.Cost;

/// <summary>
/// Parameter and FLOP counts of the built-in blocks, exactly as docs/models.md defines them. FLOPs count matrix
/// products and convolutions only, as 2 x multiply-adds, per sample.
/// </summary>
public static class CostModel
{
    /// <summary>The MLP ratio of transformer blocks.</summary>
    public const int MlpRatio = 4;

    /// <summary>mlp(hidden, out, norm) from <paramref name="inputWidth"/> features:
    /// <c>sum_i (prev_i h_i + h_i) + norm (2 h_i for layer and batch) + prev_n o + o</c>.</summary>
    public static long MlpParameters(long inputWidth, IReadOnlyList<int> hidden, int output, bool hasNorm)
    {
        long total = 0;
        var previous = inputWidth;
        foreach (var width in hidden)
        {
            total += (previous * width) + width + (hasNorm ? 2L * width : 0);
            previous = width;
        }

        return total + (previous * output) + output;
    }

    /// <summary>Forward FLOPs of an mlp over <paramref name="rows"/> rows (1 per sample, or one per token).</summary>
    public static long MlpFlops(long inputWidth, IReadOnlyList<int> hidden, int output, long rows = 1)
    {
        long total = 0;
        var previous = inputWidth;
        foreach (var width in hidden)
        {
            total += 2 * rows * previous * width;
            previous = width;
        }

        return total + (2 * rows * previous * output);
    }

    /// <summary>The spatial size after a conv stage: <c>floor((s + 2 floor((k - 1) / 2) - k + 1) / 2)</c>.</summary>
    public static int ConvStageOutput(int size, int kernel) => ConvOutput(size, kernel) / 2;

    /// <summary>The size after the convolution of a stage, before its pooling (stride 1, padding (k - 1) / 2).</summary>
    public static int ConvOutput(int size, int kernel) => size + (2 * ((kernel - 1) / 2)) - kernel + 1;

    /// <summary>conv(channels, kernel, out, norm) on <paramref name="inputChannels"/> channels:
    /// <c>sum_i (prev_i c_i k^2 + c_i + 2 c_i [norm]) + c_n o + o</c> (a norm's weight and bias per channel).</summary>
    public static long ConvParameters(int inputChannels, IReadOnlyList<int> channels, int kernel, int output, bool hasNorm = false)
    {
        long total = 0;
        long previous = inputChannels;
        foreach (var c in channels)
        {
            total += (previous * c * kernel * kernel) + c + (hasNorm ? 2L * c : 0);
            previous = c;
        }

        return total + (previous * output) + output;
    }

    /// <summary>Forward FLOPs of a conv encoder on one <c>[c, h, w]</c> sample: <c>2 k^2 c_in c_out h_out w_out</c> per
    /// stage (at the convolution's output size, before pooling), then the final Linear; null when a stage empties the
    /// image.</summary>
    public static long? ConvFlops(int inputChannels, int height, int width, IReadOnlyList<int> channels, int kernel, int output)
    {
        long total = 0;
        long previous = inputChannels;
        int h = height, w = width;
        foreach (var c in channels)
        {
            var convH = ConvOutput(h, kernel);
            var convW = ConvOutput(w, kernel);
            if (convH < 1 || convW < 1)
            {
                return null;
            }

            total += 2L * kernel * kernel * previous * c * convH * convW;
            previous = c;
            h = convH / 2;
            w = convW / 2;
        }

        return total + (2 * previous * output);
    }

    /// <summary>vit(patch, dim D, depth L) on <paramref name="inputChannels"/> channels:
    /// <c>c p^2 D + D + L (12 D^2 + 13 D) + 2 D</c>.</summary>
    public static long VitParameters(int inputChannels, int patch, int dim, int depth)
    {
        long d = dim;
        return ((long)inputChannels * patch * patch * d) + d + (depth * TransformerBlockParameters(d)) + (2 * d);
    }

    /// <summary>Parameters of one pre-norm block of width D with MLP ratio 4: <c>12 D^2 + 13 D</c>.</summary>
    public static long TransformerBlockParameters(long dim) => (12 * dim * dim) + (13 * dim);

    /// <summary>Forward FLOPs of one block over T tokens of width D: q, k, v <c>6 T D^2</c>, projection <c>2 T D^2</c>,
    /// MLP <c>16 T D^2</c>, attention <c>4 T^2 D</c>.</summary>
    public static long TransformerBlockFlops(long tokens, long dim) =>
        (2 * tokens * dim * 3 * dim) + (2 * tokens * dim * dim) + (2 * tokens * dim * MlpRatio * dim * 2) + (4 * tokens * tokens * dim);

    /// <summary>Forward FLOPs of a vit per sample: the patch embedding over all <paramref name="allTokens"/> patches
    /// (<c>2 c p^2 D N</c>), then <c>L</c> blocks over <paramref name="blockTokens"/> tokens (fewer for a masked
    /// context, which keeps its tokens before the blocks).</summary>
    public static long VitFlops(int inputChannels, int patch, int dim, int depth, long allTokens, long blockTokens) =>
        (2L * inputChannels * patch * patch * dim * allTokens) + (depth * TransformerBlockFlops(blockTokens, dim));

    /// <summary>transformer(dim Dp, depth L) predicting for an encoder of width D:
    /// <c>D Dp + Dp + Dp + L (12 Dp^2 + 13 Dp) + 2 Dp + Dp D + D</c>.</summary>
    public static long TransformerPredictorParameters(int encoderDim, int dim, int depth)
    {
        long d = encoderDim, p = dim;
        return (d * p) + p + p + (depth * TransformerBlockParameters(p)) + (2 * p) + (p * d) + d;
    }

    /// <summary>Forward FLOPs of the transformer predictor per sample: <c>Linear(D, Dp)</c> on the Nc context tokens,
    /// L blocks over Nc + Nt tokens, <c>Linear(Dp, D)</c> on the Nt predictions.</summary>
    public static long TransformerPredictorFlops(int encoderDim, int dim, int depth, long contextTokens, long targetTokens) =>
        (2L * contextTokens * encoderDim * dim) + (depth * TransformerBlockFlops(contextTokens + targetTokens, dim))
        + (2L * targetTokens * dim * encoderDim);

    /// <summary>
    /// FLOPs of one training step (docs/models.md): <c>B (context + predictor + target forward) + 2 B (forward of
    /// the modules on a gradient path)</c>.
    /// </summary>
    public static long StepFlops(int batch, long contextForward, long predictorForward, long targetForward, bool targetOnGradientPath) =>
        (batch * (contextForward + predictorForward + targetForward))
        + (2L * batch * (contextForward + predictorForward + (targetOnGradientPath ? targetForward : 0)));

    /// <summary>Round half away from zero (docs/models.md's <c>round</c> in the token-count estimate).</summary>
    public static int Round(double value) => (int)System.Math.Round(value, System.MidpointRounding.AwayFromZero);

    /// <summary>block_mask's token counts: <c>Nt = targets round(N mid(target_scale))</c>,
    /// <c>Nc = max(min_keep, round(N mid(context_scale)) - Nt)</c>.</summary>
    public static (int Context, int Target) BlockMaskTokens(int tokens, int targets, (double Low, double High) targetScale,
        (double Low, double High) contextScale, int minKeep)
    {
        var target = targets * Round(tokens * (targetScale.Low + targetScale.High) / 2);
        var context = System.Math.Max(minKeep, Round(tokens * (contextScale.Low + contextScale.High) / 2) - target);
        return (context, target);
    }

    /// <summary>block_mask's largest context, for the memory estimate: the context block at its largest scale less one
    /// target block at its smallest (the target blocks may overlap), at least <c>min_keep</c>. A batch keeps the smallest
    /// context of its samples, which varies from step to step; the largest step sets the peak.</summary>
    public static int BlockMaskPeakContext(int tokens, (double Low, double High) targetScale, (double Low, double High) contextScale, int minKeep) =>
        System.Math.Max(minKeep, System.Math.Min(tokens, Round(tokens * contextScale.High)) - System.Math.Max(1, (int)System.Math.Floor(tokens * targetScale.Low)));

    /// <summary>random_mask's token counts in token mode: <c>Nt = max(1, round(N ratio))</c> targets, and the rest
    /// (<c>Nc = N - Nt</c>, at least 1) as context.</summary>
    public static (int Context, int Target) RandomMaskTokens(int tokens, double ratio)
    {
        var target = System.Math.Min(System.Math.Max(1, Round(tokens * ratio)), System.Math.Max(1, tokens - 1));
        return (System.Math.Max(1, tokens - target), target);
    }
}

/// <summary>The cost of one module: its own parameters and its forward FLOPs per sample in this experiment.</summary>
public sealed record ModuleCost(string Role, string? Encoder, long? Parameters, long? ForwardFlops, bool Trainable, bool OnGradientPath, string Note);

/// <summary>
/// Per experiment: the parameters of the context encoder, the target (an EMA copy holds its own untrained
/// parameters; a shared or stop-gradient target holds none of its own) and the predictor; the trainable total; and
/// the FLOPs of one training step at the experiment's batch (docs/models.md). Null where a C# encoder makes a count
/// unknown.
/// </summary>
public sealed record CostSummary(
    int Batch,
    ModuleCost Context,
    ModuleCost Target,
    ModuleCost Predictor,
    long? TrainableParameters,
    long? TotalParameters,
    long? FlopsPerStep)
{
    public IEnumerable<ModuleCost> Modules => new[] { Context, Target, Predictor };

    /// <summary>The memory of a training process at <see cref="Batch"/> (docs/models.md, "Memory"); null where a
    /// count is unknown.</summary>
    public MemoryCost? Memory { get; init; }

    public override string ToString() =>
        string.Join("; ", Modules.Select(m => $"{m.Role} {m.Parameters?.ToString() ?? "?"} ({m.Note})"))
        + $"; trainable {TrainableParameters?.ToString() ?? "?"}; FLOPs/step {FlopsPerStep?.ToString() ?? "?"}";
}
