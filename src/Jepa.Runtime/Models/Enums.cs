namespace Jepa.Runtime.Models;

/// <summary>Normalisation after each hidden <c>Linear</c> of an <see cref="MlpEncoder"/>.</summary>
public enum Norm
{
    /// <summary>No normalisation.</summary>
    None,
    /// <summary><c>LayerNorm(h)</c> with affine weights (2h parameters).</summary>
    Layer,
    /// <summary><c>BatchNorm1d(h)</c> with affine weights (2h parameters; running statistics are buffers).</summary>
    Batch,
}

/// <summary>Activation after each hidden layer of an <see cref="MlpEncoder"/>.</summary>
public enum Activation
{
    /// <summary>GELU (exact, erf form).</summary>
    Gelu,
    /// <summary>ReLU.</summary>
    Relu,
    /// <summary>SiLU (swish).</summary>
    Silu,
    /// <summary>Tanh.</summary>
    Tanh,
}

/// <summary>How spatial positions (conv) or tokens (vit) are reduced to one vector.</summary>
public enum Pool
{
    /// <summary>Mean over positions or tokens.</summary>
    Mean,
    /// <summary>Maximum over positions or tokens.</summary>
    Max,
}
