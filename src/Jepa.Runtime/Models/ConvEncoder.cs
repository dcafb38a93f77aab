using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Jepa.Runtime.Models;

/// <summary>
/// <c>conv(channels: [c1..cn], kernel: k, pool, out: o, norm, groups)</c> (docs/models.md): per stage
/// <c>Conv2d(prev, c_i, k, stride 1, padding (k - 1) / 2)</c>, the norm, GELU, <c>MaxPool2d(2, 2)</c>; then a global
/// mean or max over the remaining positions and <c>Linear(c_n, o)</c>. The norm: <c>batch</c> <c>BatchNorm2d(c_i)</c>
/// (statistics over the batch and the positions: it couples the samples of a batch), <c>group</c>
/// <c>GroupNorm(groups, c_i)</c>, <c>layer</c> <c>GroupNorm(1, c_i)</c> (over the channels and positions of one sample,
/// as Wu and He define layer norm for images), <c>none</c>; each with a weight and a bias per channel. Input
/// <c>[c, h, w]</c>; a flattened sample is reshaped; a (B, c, h', w') batch of another size passes as it is (global pool).
/// Parameters: <c>sum_i (prev_i c_i k^2 + c_i + 2 c_i [norm]) + c_n o + o</c>.
/// </summary>
public sealed class ConvEncoder : nn.Module<Tensor, Tensor>
{
    private readonly Sequential stages;
    private readonly Linear head;

    private readonly long[] inputShape;
    private readonly Pool pool;
    private readonly int kernel;
    private readonly int stageCount;

    /// <summary>Creates the encoder for samples of shape <c>[c, h, w]</c>.</summary>
    public ConvEncoder(ReadOnlySpan<long> inputShape, IReadOnlyList<int> channels, int kernel = 3, Pool pool = Pool.Mean, int @out = 128,
                       Norm norm = Norm.None, int groups = 8)
        : base(nameof(ConvEncoder))
    {
        ArgumentNullException.ThrowIfNull(channels);
        if (inputShape.Length != 3) throw new ArgumentException($"conv needs an input shape [c, h, w], not {Shapes.Format(inputShape)}.", nameof(inputShape));
        if (channels.Count == 0) throw new ArgumentException("conv needs at least one stage.", nameof(channels));
        if (kernel < 1) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "The kernel must be at least 1.");
        if (norm == Norm.Group && groups < 1) throw new ArgumentOutOfRangeException(nameof(groups), groups, "Group norm needs at least one group.");
        this.inputShape = inputShape.ToArray();
        this.pool = pool;
        this.kernel = kernel;
        OutputWidth = @out;

        stageCount = channels.Count;
        CheckSize(inputShape[1], inputShape[2], nameof(channels));

        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        long prev = inputShape[0];
        var padding = (kernel - 1) / 2;
        for (var i = 0; i < channels.Count; i++)
        {
            modules.Add(($"conv{i}", nn.Conv2d(prev, channels[i], kernel, stride: 1, padding: padding)));
            if (Normalisation(norm, channels[i], groups, i) is { } normalisation) modules.Add(($"norm{i}", normalisation));
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

    private static nn.Module<Tensor, Tensor>? Normalisation(Norm norm, int channels, int groups, int stage) => norm switch
    {
        Norm.None => null,
        Norm.Batch => nn.BatchNorm2d(channels),
        Norm.Layer => Initialised(nn.GroupNorm(1, channels)),
        Norm.Group when channels % groups == 0 => Initialised(nn.GroupNorm(groups, channels)),
        Norm.Group => throw new ArgumentException($"conv stage {stage + 1} has {channels} channels, which {groups} groups do not divide; choose groups that divide every stage's channels.", nameof(groups)),
        _ => throw new ArgumentOutOfRangeException(nameof(norm), norm, "Unknown norm."),
    };

    /// <summary>
    /// PyTorch's initialisation of a group norm, weight 1 and bias 0: TorchSharp 0.107's <c>nn.GroupNorm</c> leaves both
    /// uninitialised (whatever the memory held, NaN included; seen in 500 of 500 constructions). No random draws.
    /// </summary>
    private static GroupNorm Initialised(GroupNorm norm)
    {
        using var _ = no_grad();
        norm.weight!.fill_(1);
        norm.bias!.zero_();
        return norm;
    }

    /// <summary>Refuses an <paramref name="h"/> x <paramref name="w"/> input that a stage shrinks below one pixel.</summary>
    private void CheckSize(long h, long w, string parameter)
    {
        var padding = (kernel - 1) / 2;
        var (h0, w0) = (h, w);
        for (var i = 0; i < stageCount; i++)
        {
            h = (h + 2 * padding - kernel + 1) / 2;
            w = (w + 2 * padding - kernel + 1) / 2;
            if (h < 1 || w < 1)
                throw new ArgumentException($"conv stage {i + 1} shrinks the {h0}x{w0} input below one pixel.", parameter);
        }
    }

    /// <summary>(B, c, h, w) or (B, c*h*w) -> (B, o); a (B, c, h', w') batch of another size (a smaller crop) passes as it is.</summary>
    public override Tensor forward(Tensor x) => Temporaries.Free(() =>
    {
        var image = x.dim() == 4 && x.shape[1] == inputShape[0]
            ? x                                                                                   // (B, c, h', w'), any size the stages keep
            : x.reshape(x.shape[0], inputShape[0], inputShape[1], inputShape[2]);                 // (B, c, h, w)
        CheckSize(image.shape[2], image.shape[3], nameof(x));
        var features = stages.forward(image);                                                     // (B, c_n, s, s)
        var flat = features.flatten(2);                                                           // (B, c_n, s*s)
        var pooled = pool == Pool.Mean ? flat.mean([2]) : flat.amax([2]);                         // (B, c_n)
        return head.forward(pooled);                                                              // (B, o)
    });
}
