using static TorchSharp.torch;

namespace Jepa.Runtime.Models;

/// <summary><c>predictor = none</c>: the context representation is the prediction. No parameters.</summary>
public sealed class Identity : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the identity.</summary>
    public Identity() : base(nameof(Identity)) => RegisterComponents();

    /// <summary>x -> x (a new handle to the same storage).</summary>
    public override Tensor forward(Tensor x) => x.alias();
}
