using static TorchSharp.torch;

namespace Jepa.Runtime.Models;

/// <summary>
/// Frees a computation's temporaries as soon as it returns, as PyTorch frees them by reference counting. In
/// TorchSharp every tensor a computation creates belongs to the enclosing dispose scope (the training step's) and lives
/// until that scope ends: a transformer block's norms, q/k/v, attention output and MLP hidden layers would all stay
/// allocated until the step is over, and under <c>no_grad</c> (an EMA target, the collapse monitor) nothing needs them
/// at all. Disposing a tensor releases only this handle: what autograd saved for the backward pass it keeps alive
/// through its own references, so the gradients and the results are unchanged. docs/models.md, "Memory".
/// </summary>
internal static class Temporaries
{
    /// <summary>Runs <paramref name="compute"/> in its own dispose scope and keeps only its result, which must be a
    /// tensor it created (not one of its inputs).</summary>
    public static Tensor Free(Func<Tensor> compute)
    {
        using var scope = NewDisposeScope();
        return compute().MoveToOuterDisposeScope();
    }
}
