using Jepa.Runtime.Losses;
using TorchSharp;
using static TorchSharp.torch;
using static Jepa.Runtime.Tests.Losses.LossTests;

namespace Jepa.Runtime.Tests.Losses;

/// <summary>Every regularizer against a direct loop in double precision. Tolerance: 1e-5 relative unless stated.</summary>
public class RegularizerTests
{
    private const int N = 8, D = 4;

    private static (Tensor Z, double[,] z) Batch(long seed, double scale = 1.0)
    {
        var g = new Generator((ulong)seed, torch.CPU);
        // Correlated columns and unequal scales so that every term is far from zero.
        var z = randn(N, D, generator: g).matmul(randn(D, D, generator: g)) * scale + 0.3;
        return (z, ToArray(z));
    }

    private static double Mean(double[,] z, int j) => Enumerable.Range(0, z.GetLength(0)).Average(i => z[i, j]);

    private static double Cov(double[,] a, double[,] b, int i, int j, int denominator)
    {
        double mi = Mean(a, i), mj = Mean(b, j), sum = 0;
        for (var k = 0; k < a.GetLength(0); k++) sum += (a[k, i] - mi) * (b[k, j] - mj);
        return sum / denominator;
    }

    [Theory]
    [InlineData(0.3)]   // small variance: the hinge is active
    [InlineData(3.0)]   // large variance: some dimensions are past the hinge
    public void Vicreg_variance_is_the_mean_hinge_on_the_std(double scale)
    {
        var (Z, z) = Batch(1, scale);
        double sum = 0;
        for (var j = 0; j < D; j++) sum += Math.Max(0, 1 - Math.Sqrt(Cov(z, z, j, j, N - 1) + 1e-4));
        Close(sum / D, Regularizers.VicRegVariance(Z));
    }

    [Fact]
    public void Vicreg_covariance_is_the_sum_of_squared_off_diagonal_covariances_over_d()
    {
        var (Z, z) = Batch(2);
        double sum = 0;
        for (var i = 0; i < D; i++)
        for (var j = 0; j < D; j++)
            if (i != j) sum += Math.Pow(Cov(z, z, i, j, N - 1), 2);
        Close(sum / D, Regularizers.VicRegCovariance(Z));
    }

    [Theory]
    [InlineData(0.005)]
    [InlineData(1.0)]
    public void Barlow_twins_pushes_the_standardised_cross_correlation_towards_identity(double lambda)
    {
        var (Z1, z1) = Batch(3);
        var (Z2, z2) = Batch(4, 2.0);
        double loss = 0;
        for (var i = 0; i < D; i++)
        for (var j = 0; j < D; j++)
        {
            var c = Cov(z1, z2, i, j, N) / Math.Sqrt(Cov(z1, z1, i, i, N) + 1e-5) / Math.Sqrt(Cov(z2, z2, j, j, N) + 1e-5);
            loss += i == j ? (1 - c) * (1 - c) : lambda * c * c;
        }
        Close(loss, Regularizers.BarlowTwins(Z1, Z2, lambda));
    }

    [Fact]
    public void Sigreg_is_the_epps_pulley_statistic_averaged_over_directions()
    {
        var (Z, z) = Batch(5);
        var g = new Generator(6, torch.CPU);
        var a = randn(D, 3, generator: g);
        a /= a.norm(0, keepdim: true);
        var directions = ToArray(a);
        // The integral over [-3, 3] with the trapezoid rule on 33 symmetric knots (spacing 3/16).
        double total = 0;
        for (var m = 0; m < 3; m++)
        {
            var x = Enumerable.Range(0, N).Select(k => Enumerable.Range(0, D).Sum(j => z[k, j] * directions[j, m])).ToArray();
            double integral = 0;
            for (var knot = -16; knot <= 16; knot++)
            {
                var t = knot * 3.0 / 16;
                var re = x.Average(v => Math.Cos(t * v)) - Math.Exp(-t * t / 2);
                var im = x.Average(v => Math.Sin(t * v));
                var weight = Math.Abs(knot) == 16 ? 0.5 : 1.0;
                integral += weight * (3.0 / 16) * Math.Exp(-t * t / 2) * (re * re + im * im);
            }
            total += N * integral;
        }
        Close(total / 3, Regularizers.SigReg(Z, a));
    }

    [Fact]
    public void Sigreg_matches_its_expectation_on_gaussian_data_and_flags_collapse()
    {
        // For x ~ N(0, 1): n E|phi_n(t) - phi(t)|^2 = 1 - exp(-t^2), so E[SIGReg] = integral of w(t) (1 - exp(-t^2)),
        // about 1.05 with the same trapezoid rule. One direction's statistic has a std of about 0.92 (checked with numpy),
        // so the mean over 64 batches of 512 x 16 (about 1,000 independent projections) is within 0.12 (4 sigma).
        var g = new Generator(7, torch.CPU);
        double expected = 0;
        for (var knot = -16; knot <= 16; knot++)
        {
            var t = knot * 3.0 / 16;
            expected += (Math.Abs(knot) == 16 ? 0.5 : 1.0) * (3.0 / 16) * Math.Exp(-t * t / 2) * (1 - Math.Exp(-t * t));
        }
        Assert.InRange(expected, 1.0, 1.1);
        double mean = 0;
        for (var batch = 0; batch < 64; batch++)
        {
            using var scope = NewDisposeScope();
            mean += Regularizers.SigReg(randn(512, 16, generator: g), 16, g).item<float>() / 64;
        }
        Assert.InRange(mean, expected - 0.12, expected + 0.12);
        using var gaussian = randn(2048, 32, generator: g);
        // Collapsed embeddings (all equal) and shrunken ones are far from isotropic Gaussian.
        using var collapsed = ones(2048, 32) * 0.5;
        Assert.True(Regularizers.SigReg(collapsed, 256, g).item<float>() > 50);
        Assert.True(Regularizers.SigReg(gaussian * 0.1, 256, g).item<float>() > 50);
    }

    [Fact]
    public void Sigreg_directions_come_from_the_generator()
    {
        var (Z, _) = Batch(8);
        var a = Regularizers.SigReg(Z, 16, new Generator(9, torch.CPU)).item<float>();
        Assert.Equal(a, Regularizers.SigReg(Z, 16, new Generator(9, torch.CPU)).item<float>());
        Assert.NotEqual(a, Regularizers.SigReg(Z, 16, new Generator(10, torch.CPU)).item<float>());
    }

    [Fact]
    public void Token_embeddings_are_flattened_to_samples()
    {
        var (Z, _) = Batch(11);
        using var tokens = Z.reshape(2, 4, D);
        Close(Regularizers.VicRegVariance(Z).item<float>(), Regularizers.VicRegVariance(tokens));
        Close(Regularizers.VicRegCovariance(Z).item<float>(), Regularizers.VicRegCovariance(tokens));
        Close(Regularizers.BarlowTwins(Z, Z * 2, 0.1).item<float>(), Regularizers.BarlowTwins(tokens, tokens * 2, 0.1));
    }

    [Fact]
    public void A_single_sample_is_refused()
    {
        using var one = ones(1, 4);
        var e = Assert.Throws<ArgumentException>(() => Regularizers.VicRegVariance(one));
        Assert.Contains("at least two", e.Message);
    }
}
