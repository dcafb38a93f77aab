using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Jepa.Dsl.Cost;

/// <summary>
/// The memory a training process needs, by the cost rules of docs/models.md ("Memory"): 4 bytes per float32 value of
/// the trained weights, the EMA copies, the gradients, the optimizer state, the activations that one step keeps for
/// the backward pass at the file's batch (every view counted), the transient workspace, and the process itself before
/// any of it. The runtime's <c>MemoryEstimate</c> carries the same numbers into the generated code; the runner
/// compares them with the memory available before it builds anything.
/// </summary>
public sealed record MemoryCost(
    int Batch,
    long Weights,
    long EmaCopies,
    long Gradients,
    long OptimizerState,
    long Activations,
    long Workspace,
    long Baseline,
    string LargestModule,
    long LargestModuleBytes)
{
    /// <summary>Everything but the baseline.</summary>
    public long Model => Weights + EmaCopies + Gradients + OptimizerState + Activations + Workspace;

    /// <summary>The estimated peak resident memory of a training process on the CPU.</summary>
    public long Total => Model + Baseline;

    /// <summary>The parts in words, as the runner prints them.</summary>
    public string Parts() =>
        $"weights {MemoryModel.Format(Weights)}, EMA copies {MemoryModel.Format(EmaCopies)}, gradients {MemoryModel.Format(Gradients)}, " +
        $"optimizer state {MemoryModel.Format(OptimizerState)}, activations at batch {Batch.ToString(CultureInfo.InvariantCulture)} {MemoryModel.Format(Activations)}, " +
        $"workspace {MemoryModel.Format(Workspace)}, process baseline {MemoryModel.Format(Baseline)}";
}

/// <summary>The memory rules (docs/models.md, "Memory"): activation counts of the built-in blocks and the sum.</summary>
public static class MemoryModel
{
    /// <summary>Bytes of one float32 value.</summary>
    public const long Float = 4;

    /// <summary>The resident memory of a training process before its model: the .NET runtime with TorchSharp and
    /// libtorch (CPU) loaded, the runner and its data pipeline (measured on Linux x64; docs/models.md).</summary>
    public const long ProcessBaseline = 232L << 20;

    /// <summary>
    /// The C heap's slack over one step's activations: glibc's malloc, under libtorch's CPU tensors, keeps the freed
    /// temporaries of a step as free chunks (its mmap threshold rises to 32 MiB after the first large free) and the next
    /// step's tensors, of other sizes and order, fit them only in part, so the heap peaks above the live tensors by about
    /// the activations once more (measured here with and without <c>MALLOC_MMAP_THRESHOLD_=131072</c>: token.jepa 543-595
    /// against 449 MiB live, 0.5-0.8 times its activations; mnist.jepa 1.02-1.09 GiB after 30 steps against 654 MiB,
    /// 1.0-1.2 times; docs/models.md, "Memory").
    /// </summary>
    public static long HeapSlack(long activations) => activations;

    /// <summary>The estimate above which the compiler warns (JEPA313): 16 GiB, more than a laptop has to spare.</summary>
    public const long WarningThreshold = 16L << 30;

    /// <summary>Values an mlp keeps per row for the backward pass: its input, and per hidden layer the linear
    /// output, the norm output (with a norm) and the activation output; the last linear output.</summary>
    public static long MlpActivations(long inputWidth, IReadOnlyList<int> hidden, int output, bool hasNorm, long rows = 1) =>
        rows * (inputWidth + hidden.Sum(h => (long)h * (hasNorm ? 3 : 2)) + output);

    /// <summary>Values a conv encoder keeps per sample: its input; per stage the convolution output, the norm output
    /// (with a norm), the GELU output, the pooled output and the pool's int64 indices (two floats each); the pooled
    /// features and the output.</summary>
    public static long? ConvActivations(int inputChannels, int height, int width, IReadOnlyList<int> channels, int kernel, int output, bool hasNorm = false)
    {
        long total = (long)inputChannels * height * width;
        int h = height, w = width;
        long previous = inputChannels;
        foreach (var c in channels)
        {
            var convH = CostModel.ConvOutput(h, kernel);
            var convW = CostModel.ConvOutput(w, kernel);
            if (convH < 1 || convW < 1)
            {
                return null;
            }

            h = convH / 2;
            w = convW / 2;
            total += ((hasNorm ? 3L : 2L) * c * convH * convW) + (3L * c * h * w);
            previous = c;
        }

        return total + previous + output;
    }

    /// <summary>Values one pre-norm transformer block keeps per sample over T tokens of width D with H heads: the two
    /// norms' inputs and outputs (4 TD), q, k, v (3 TD), the attention's output and the projection's input (2 TD), the
    /// MLP's hidden layer before and after GELU (8 TD), and the attention scores before and after softmax (2 H T^2).</summary>
    public static long TransformerBlockActivations(long tokens, long dim, long heads) => (17 * tokens * dim) + (2 * heads * tokens * tokens);

    /// <summary>Values a vit keeps per sample: the image, the patch embedding of all N tokens, the blocks over the
    /// <paramref name="blockTokens"/> kept tokens, and the final norm's input and output.</summary>
    public static long VitActivations(int inputChannels, int height, int width, int dim, int depth, int heads, long allTokens, long blockTokens) =>
        ((long)inputChannels * height * width) + (allTokens * dim) + (depth * TransformerBlockActivations(blockTokens, dim, heads)) + (2 * blockTokens * dim);

    /// <summary>Values the transformer predictor keeps per sample: the Nc context tokens in and their projection,
    /// the blocks over Nc + Nt tokens, the final norm, and the Nt predictions.</summary>
    public static long TransformerPredictorActivations(int encoderDim, int dim, int depth, int heads, long contextTokens, long targetTokens)
    {
        var tokens = contextTokens + targetTokens;
        return (contextTokens * (encoderDim + dim)) + (depth * TransformerBlockActivations(tokens, dim, heads)) + (2 * tokens * dim)
               + (targetTokens * encoderDim);
    }

    /// <summary>Knots of SIGReg's Epps-Pulley integral (the runtime's <c>Regularizers.EppsPulleyGrid</c>).</summary>
    public const int SigRegKnots = 17;

    /// <summary>Values SIGReg needs on n embeddings with M directions: the (n, M, T) projections times the knots, which
    /// autograd keeps for the cosines' and sines' backward, and five more of that size at the backward's peak (the sine
    /// and cosine recomputed, the two products and their sum; measured with heaptrack), the (n, M) projections besides.</summary>
    public static long SigRegValues(long samples, long directions) => (6 * samples * directions * SigRegKnots) + (samples * directions);

    /// <summary>Values VICReg needs on n embeddings of width d: the centred embeddings and their gradient (2 n d), and the
    /// (d, d) covariance and its gradient.</summary>
    public static long VicRegValues(long samples, long width) => (2 * samples * width) + (2 * width * width);

    /// <summary>Values Barlow Twins needs on two sides of n embeddings of width d: both standardised sides and their
    /// gradients (4 n d), and the (d, d) cross-correlation and its gradient.</summary>
    public static long BarlowTwinsValues(long samples, long width) => (4 * samples * width) + (2 * width * width);

    /// <summary>Bytes as the runtime's <c>ByteSize</c> writes them: 512 B, 3.0 KiB, 58.6 MiB, 1.50 GiB, 2.00 TiB.</summary>
    public static string Format(long bytes) => bytes switch
    {
        < 1024 => bytes.ToString(CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("F1", CultureInfo.InvariantCulture) + " MiB",
        < 1024L * 1024 * 1024 * 1024 => (bytes / (1024.0 * 1024 * 1024)).ToString("F2", CultureInfo.InvariantCulture) + " GiB",
        _ => (bytes / (1024.0 * 1024 * 1024 * 1024)).ToString("F2", CultureInfo.InvariantCulture) + " TiB",
    };
}
