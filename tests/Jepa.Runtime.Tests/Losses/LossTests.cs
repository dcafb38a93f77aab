using Jepa.Runtime.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Losses;

/// <summary>Every loss against a direct loop in double precision over a small tensor. Tolerance: 1e-5 relative.</summary>
public class LossTests
{
    private const int N = 6, D = 5;

    private static (Tensor P, Tensor T, double[,] p, double[,] t) Pair(long seed, double scale = 1.0)
    {
        var g = new Generator((ulong)seed, torch.CPU);
        var p = randn(N, D, generator: g) * scale;
        var t = randn(N, D, generator: g) * scale;
        return (p, t, ToArray(p), ToArray(t));
    }

    internal static double[,] ToArray(Tensor x)
    {
        var values = x.to(ScalarType.Float64).data<double>().ToArray();
        int rows = (int)x.shape[0], cols = (int)x.shape[1];
        var result = new double[rows, cols];
        for (var i = 0; i < rows; i++)
        for (var j = 0; j < cols; j++)
            result[i, j] = values[i * cols + j];
        return result;
    }

    internal static void Close(double expected, Tensor actual, double relative = 1e-5) =>
        Assert.InRange(actual.item<float>(), expected - relative * Math.Max(1, Math.Abs(expected)), expected + relative * Math.Max(1, Math.Abs(expected)));

    [Fact]
    public void Mse_is_the_mean_squared_difference()
    {
        var (P, T, p, t) = Pair(1);
        double sum = 0;
        for (var i = 0; i < N; i++) for (var j = 0; j < D; j++) sum += (p[i, j] - t[i, j]) * (p[i, j] - t[i, j]);
        Close(sum / (N * D), Loss.Mse(P, T));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    [InlineData(2.0)]
    public void Smooth_l1_is_quadratic_below_beta_and_linear_above(double beta)
    {
        var (P, T, p, t) = Pair(2);
        double sum = 0;
        for (var i = 0; i < N; i++)
        for (var j = 0; j < D; j++)
        {
            var x = Math.Abs(p[i, j] - t[i, j]);
            sum += x < beta ? 0.5 * x * x / beta : x - 0.5 * beta;
        }
        Close(sum / (N * D), Loss.SmoothL1(P, T, beta));
    }

    [Fact]
    public void L1_is_the_mean_absolute_difference()
    {
        var (P, T, p, t) = Pair(3);
        double sum = 0;
        for (var i = 0; i < N; i++) for (var j = 0; j < D; j++) sum += Math.Abs(p[i, j] - t[i, j]);
        Close(sum / (N * D), Loss.L1(P, T));
    }

    [Fact]
    public void Cosine_is_one_minus_the_mean_cosine_similarity()
    {
        var (P, T, p, t) = Pair(4, scale: 3.0);
        double sum = 0;
        for (var i = 0; i < N; i++)
        {
            double dot = 0, np = 0, nt = 0;
            for (var j = 0; j < D; j++) { dot += p[i, j] * t[i, j]; np += p[i, j] * p[i, j]; nt += t[i, j] * t[i, j]; }
            sum += dot / Math.Sqrt(np) / Math.Sqrt(nt);
        }
        Close(1 - sum / N, Loss.Cosine(P, T));
        Close(0, Loss.Cosine(P, P * 2));
        Close(2, Loss.Cosine(P, -P));
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    public void Info_nce_is_cross_entropy_over_batch_similarities(double temperature)
    {
        var (P, T, p, t) = Pair(5);
        double Norm(double[,] a, int i) => Math.Sqrt(Enumerable.Range(0, D).Sum(j => a[i, j] * a[i, j]));
        double S(int i, int k) => Enumerable.Range(0, D).Sum(j => p[i, j] * t[k, j]) / Norm(p, i) / Norm(t, k) / temperature;
        double sum = 0;
        for (var i = 0; i < N; i++)
        {
            var logSumExp = Math.Log(Enumerable.Range(0, N).Sum(k => Math.Exp(S(i, k))));
            sum += logSumExp - S(i, i);
        }
        Close(sum / N, Loss.InfoNce(P, T, temperature));
    }

    [Fact]
    public void Info_nce_flattens_tokens_into_one_batch_of_negatives()
    {
        var (P, T, _, _) = Pair(6);
        // (6, 5) viewed as (2, 3, 5) tokens is the same set of six vectors.
        Close(Loss.InfoNce(P, T, 0.2).item<float>(), Loss.InfoNce(P.reshape(2, 3, D), T.reshape(2, 3, D), 0.2));
    }

    [Fact]
    public void Token_losses_average_over_every_token()
    {
        var (P, T, _, _) = Pair(7);
        Close(Loss.Mse(P, T).item<float>(), Loss.Mse(P.reshape(2, 3, D), T.reshape(2, 3, D)));
        Close(Loss.Cosine(P, T).item<float>(), Loss.Cosine(P.reshape(2, 3, D), T.reshape(2, 3, D)));
    }

    [Fact]
    public void Layer_target_norm_standardises_each_vector_with_the_biased_variance()
    {
        var (P, _, p, _) = Pair(8, scale: 4.0);
        var normed = ToArray(TargetNorm.Layer(P));
        for (var i = 0; i < N; i++)
        {
            var mean = Enumerable.Range(0, D).Average(j => p[i, j]);
            var variance = Enumerable.Range(0, D).Average(j => (p[i, j] - mean) * (p[i, j] - mean));
            for (var j = 0; j < D; j++) Assert.Equal((p[i, j] - mean) / Math.Sqrt(variance + 1e-5), normed[i, j], 5);
        }
        // On tokens the normalisation is over the last dimension only.
        Assert.True(TargetNorm.Layer(P.reshape(2, 3, D)).reshape(N, D).allclose(TargetNorm.Layer(P), rtol: 1e-6, atol: 1e-6));
    }

    [Fact]
    public void Mismatched_shapes_are_refused()
    {
        using var a = zeros(4, 3);
        using var b = zeros(4, 2);
        var e = Assert.Throws<ArgumentException>(() => Loss.Mse(a, b));
        Assert.Contains("[4, 3]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.InfoNce(a, a, 0));
    }
}
