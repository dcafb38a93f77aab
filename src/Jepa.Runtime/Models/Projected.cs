using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Models;

/// <summary>
/// An encoder with a projector head (<c>projector = mlp(...)</c>, docs/language.md): <c>forward</c> is the projector on
/// the encoder's output (token by token for a token encoder), which the loss and regularizers read; <see cref="Encoder"/>
/// is the backbone, whose output <c>Encode</c>, the probes and the collapse monitor read. One module, so that an EMA
/// copy, a stop-gradient view and the optimizer treat the pair as the encoder alone is treated. Its parameters are named
/// <c>encoder.*</c> and <c>projector.*</c>.
/// </summary>
public sealed class Projected<TEncoder> : nn.Module<Tensor, Tensor>
    where TEncoder : nn.Module<Tensor, Tensor>
{
    private readonly TEncoder encoder;
    private readonly MlpEncoder projector;

    /// <summary>Wraps <paramref name="encoder"/> and the projector made for it (<paramref name="projector"/> gets the
    /// encoder, to read its output width).</summary>
    public Projected(TEncoder encoder, Func<TEncoder, MlpEncoder> projector) : base("Projected")
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(projector);
        this.encoder = encoder;
        this.projector = projector(encoder) ?? throw new ArgumentException("The projector factory returned null.", nameof(projector));
        RegisterComponents();
    }

    /// <summary>The backbone.</summary>
    public TEncoder Encoder => encoder;

    /// <summary>The projector head.</summary>
    public MlpEncoder Projector => projector;

    /// <summary>The width of the projector's output.</summary>
    public int OutputWidth => projector.OutputWidth;

    /// <summary>(B, ...) -> the encoder's output through the projector: (B, P), or tokens (B, N, P).</summary>
    public override Tensor forward(Tensor x) => projector.forward(encoder.forward(x));

    /// <summary>The context side of a masked token encoder: the kept tokens (<see cref="VitEncoder.forward(Tensor, Tensor)"/>)
    /// through the projector, (B, K, P).</summary>
    public Tensor forward(Tensor x, Tensor keep) => encoder is VitEncoder vit
        ? projector.forward(vit.forward(x, keep))
        : throw new InvalidOperationException($"Only a vit encoder keeps masked tokens; this projected encoder wraps a {typeof(TEncoder).Name}.");
}
