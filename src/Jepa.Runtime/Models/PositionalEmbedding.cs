using static TorchSharp.torch;

namespace Jepa.Runtime.Models;

/// <summary>
/// Fixed 2-D sine-cosine positional embedding (MAE / I-JEPA): the first half of the channels encodes a token's column,
/// the second half its row, each as <c>[sin(pos * omega_i), cos(pos * omega_i)]</c> with
/// <c>omega_i = 1 / 10000^(i / (D/4))</c>, <c>i = 0 .. D/4 - 1</c>. Tokens are numbered row-major
/// (<c>index = row * W + column</c>), the order of a flattened patch grid. When D is not a multiple of 4 the last
/// <c>D mod 4</c> channels are zero.
/// </summary>
public static class PositionalEmbedding
{
    /// <summary>The embedding of every position of an <paramref name="height"/> x <paramref name="width"/> grid: (H*W, D).</summary>
    public static Tensor SinCos2D(int dim, int height, int width)
    {
        if (dim < 1 || height < 1 || width < 1) throw new ArgumentOutOfRangeException(nameof(dim), "dim, height and width must be positive.");
        var quarter = dim / 4;
        var values = new float[height * width * dim];
        for (var r = 0; r < height; r++)
        for (var c = 0; c < width; c++)
        {
            var row = values.AsSpan((r * width + c) * dim, dim);
            for (var i = 0; i < quarter; i++)
            {
                var omega = 1.0 / Math.Pow(10000.0, (double)i / quarter);
                row[i] = (float)Math.Sin(c * omega);
                row[quarter + i] = (float)Math.Cos(c * omega);
                row[2 * quarter + i] = (float)Math.Sin(r * omega);
                row[3 * quarter + i] = (float)Math.Cos(r * omega);
            }
        }
        return tensor(values, [height * width, dim]);
    }
}
