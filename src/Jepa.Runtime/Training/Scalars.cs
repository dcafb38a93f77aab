using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

internal static class Scalars
{
    /// <summary>The value of a one-element tensor as a double (float32 and float64 read directly).</summary>
    public static double Read(Tensor t) => t.dtype switch
    {
        ScalarType.Float32 => t.item<float>(),
        ScalarType.Float64 => t.item<double>(),
        _ => ReadConverted(t),
    };

    private static double ReadConverted(Tensor t)
    {
        using var d = t.to(ScalarType.Float64);
        return d.item<double>();
    }
}
