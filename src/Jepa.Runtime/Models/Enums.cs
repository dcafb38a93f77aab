namespace Jepa.Runtime.Models;

/// <summary>Normalisation after each hidden <c>Linear</c> of an <see cref="MlpEncoder"/> or each convolution of a <see cref="ConvEncoder"/>.</summary>
public enum Norm
{
    /// <summary>No normalisation.</summary>
    None,
    /// <summary><c>LayerNorm(h)</c> in an MLP, <c>GroupNorm(1, c)</c> in a conv; affine weights (2 per feature or channel).</summary>
    Layer,
    /// <summary><c>BatchNorm1d(h)</c> in an MLP, <c>BatchNorm2d(c)</c> in a conv; affine weights (2 per feature or channel;
    /// running statistics are buffers). Couples the samples of a batch.</summary>
    Batch,
    /// <summary><c>GroupNorm(groups, c)</c>, conv only; affine weights (2 per channel).</summary>
    Group,
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
