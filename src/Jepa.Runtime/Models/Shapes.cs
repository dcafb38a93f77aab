namespace Jepa.Runtime.Models;

/// <summary>Small shape helpers shared by the blocks.</summary>
internal static class Shapes
{
    public static long Product(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (var s in shape) n *= s;
        return n;
    }

    public static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
