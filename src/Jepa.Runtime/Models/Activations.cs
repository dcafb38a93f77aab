using static TorchSharp.torch;

namespace Jepa.Runtime.Models;

internal static class Activations
{
    public static nn.Module<Tensor, Tensor> Create(Activation act) => act switch
    {
        Activation.Gelu => nn.GELU(),
        Activation.Relu => nn.ReLU(),
        Activation.Silu => nn.SiLU(),
        Activation.Tanh => nn.Tanh(),
        _ => throw new ArgumentOutOfRangeException(nameof(act), act, "Unknown activation."),
    };
}
