using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Jepa.Runtime.Models;

/// <summary>
/// <c>conv(channels: [c1..cn], kernel: k, pool, out: o)</c> (docs/models.md): per stage
/// <c>Conv2d(prev, c_i, k, stride 1, padding (k - 1) / 2)</c>, GELU, <c>MaxPool2d(2, 2)</c>; then a global mean or max
/// over the remaining positions and <c>Linear(c_n, o)</c>. Input <c>[c, h, w]</c>; a flattened sample is reshaped.
/// Parameters: <c>sum_i (prev_i c_i k^2 + c_i) + c_n o + o</c>.
/// </summary>
public sealed class ConvEncoder : nn.Module<Tensor, Tensor>
{
    private readonly Sequential stages;
    private readonly Linear head;

    private readonly long[] inputShape;
    private readonly Pool pool;

    /// <summary>Creates the encoder for samples of shape <c>[c, h, w]</c>.</summary>
    public ConvEncoder(ReadOnlySpan<long> inputShape, IReadOnlyList<int> channels, int kernel = 3, Pool pool = Pool.Mean, int @out = 128)
        : base(nameof(ConvEncoder))
    {
        ArgumentNullException.ThrowIfNull(channels);
        if (inputShape.Length != 3) throw new ArgumentException($"conv needs an input shape [c, h, w], not {Shapes.Format(inputShape)}.", nameof(inputShape));
        if (channels.Count == 0) throw new ArgumentException("conv needs at least one stage.", nameof(channels));
        if (kernel < 1) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "The kernel must be at least 1.");
        this.inputShape = inputShape.ToArray();
        this.pool = pool;
        OutputWidth = @out;

        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        long prev = inputShape[0], h = inputShape[1], w = inputShape[2];
        var padding = (kernel - 1) / 2;
        for (var i = 0; i < channels.Count; i++)
        {
            h = (h + 2 * padding - kernel + 1) / 2;
            w = (w + 2 * padding - kernel + 1) / 2;
            if (h < 1 || w < 1)
                throw new ArgumentException($"conv stage {i + 1} shrinks the {inputShape[1]}x{inputShape[2]} input below one pixel.", nameof(channels));
            modules.Add(($"conv{i}", nn.Conv2d(prev, channels[i], kernel, stride: 1, padding: padding)));
            modules.Add(($"act{i}", nn.GELU()));
            modules.Add(($"pool{i}", nn.MaxPool2d(2, 2)));
            prev = channels[i];
        }
        stages = nn.Sequential(modules);
        head = nn.Linear(prev, @out);
        RegisterComponents();
    }

    /// <summary>The width of the output, <c>o</c>.</summary>
    public int OutputWidth { get; }

    /// <summary>(B, c, h, w) or (B, c*h*w) -> (B, o).</summary>
    public override Tensor forward(Tensor x)
    {
        var image = x.reshape(x.shape[0], inputShape[0], inputShape[1], inputShape[2]);           // (B, c, h, w)
        var features = stages.forward(image);                                                     // (B, c_n, s, s)
        var flat = features.flatten(2);                                                           // (B, c_n, s*s)
        var pooled = pool == Pool.Mean ? flat.mean([2]) : flat.amax([2]);                         // (B, c_n)
        return head.forward(pooled);                                                              // (B, o)
    }
}
