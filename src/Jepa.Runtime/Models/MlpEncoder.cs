using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Jepa.Runtime.Models;

/// <summary>
/// <c>mlp(hidden: [h1..hn], out: o, norm, act)</c> (docs/models.md): for each hidden width <c>Linear(prev, h)</c>, the
/// norm, the activation; then <c>Linear(prev, o)</c>. The input is flattened first; as a predictor on tokens
/// (input shape <c>[D]</c> and an input <c>(B, N, D)</c>) it applies to every token.
/// Parameters: <c>sum_i (prev_i h_i + h_i) + 2 h_i (layer/batch norm) + prev_n o + o</c>.
/// </summary>
public sealed class MlpEncoder : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    private readonly long[] inputShape;
    private readonly long inputWidth;

    /// <summary>Creates the encoder for samples of shape <paramref name="inputShape"/> (no batch dimension).</summary>
    public MlpEncoder(ReadOnlySpan<long> inputShape, IReadOnlyList<int> hidden, int @out, Norm norm = Norm.None,
                      Activation act = Activation.Gelu) : base(nameof(MlpEncoder))
    {
        ArgumentNullException.ThrowIfNull(hidden);
        if (norm == Norm.Group) throw new ArgumentException("Group norm is for conv encoders; an mlp takes none, layer or batch.", nameof(norm));
        if (inputShape.Length == 0) throw new ArgumentException("The input shape needs at least one dimension.", nameof(inputShape));
        if (@out < 1) throw new ArgumentOutOfRangeException(nameof(@out), @out, "The output width must be at least 1.");
        this.inputShape = inputShape.ToArray();
        inputWidth = Shapes.Product(inputShape);
        OutputWidth = @out;

        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        var prev = inputWidth;
        for (var i = 0; i < hidden.Count; i++)
        {
            if (hidden[i] < 1) throw new ArgumentOutOfRangeException(nameof(hidden), hidden[i], "Hidden widths must be at least 1.");
            modules.Add(($"fc{i}", nn.Linear(prev, hidden[i])));
            switch (norm)
            {
                case Norm.Layer: modules.Add(($"norm{i}", nn.LayerNorm(hidden[i]))); break;
                case Norm.Batch: modules.Add(($"norm{i}", nn.BatchNorm1d(hidden[i]))); break;
            }
            modules.Add(($"act{i}", Activations.Create(act)));
            prev = hidden[i];
        }
        modules.Add(("out", nn.Linear(prev, @out)));
        layers = nn.Sequential(modules);
        RegisterComponents();
    }

    /// <summary>The width of the output, <c>o</c>.</summary>
    public int OutputWidth { get; }

    /// <summary>(B, *S) -> (B, o); per token (B, N, D) -> (B, N, o) when the input shape is [D].</summary>
    public override Tensor forward(Tensor x) => Temporaries.Free(() =>
    {
        var rank = inputShape.Length;
        // Leading dimensions: everything before the sample shape, or just the batch when x holds flattened samples.
        var lead = x.dim() > rank && x.shape.AsSpan((int)x.dim() - rank).SequenceEqual(inputShape)
            ? x.shape[..^rank]
            : [x.shape[0]];
        var flat = x.reshape(Shapes.Product(lead), -1);                                           // (M, d)
        var y = layers.forward(flat);                                                             // (M, o)
        return y.reshape([.. lead, OutputWidth]);                                                 // (*lead, o)
    });
}
