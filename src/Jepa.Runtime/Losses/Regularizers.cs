using static TorchSharp.torch;

namespace Jepa.Runtime.Losses;

/// <summary>
/// Anti-collapse regularizers on a batch of embeddings <c>z</c> (n, d); token embeddings (B, N, D) are flattened to
/// (B N, D) first, so every token counts as a sample.
/// </summary>
public static class Regularizers
{
    /// <summary>
    /// VICReg's variance term: <c>mean_j relu(1 - sqrt(Var(z_j) + 1e-4))</c>, with the unbiased variance of each
    /// dimension over the batch.
    /// </summary>
    public static Tensor VicRegVariance(Tensor z)
    {
        var x = Samples(z, "vicreg");
        var std = (x.var(0) + 1e-4).sqrt();                                              // (d)
        return nn.functional.relu(1 - std).mean();
    }

    /// <summary>
    /// VICReg's covariance term: <c>sum_{i != j} C_ij^2 / d</c> with <c>C = (z - mean)^T (z - mean) / (n - 1)</c>.
    /// </summary>
    public static Tensor VicRegCovariance(Tensor z)
    {
        var x = Samples(z, "vicreg");
        long n = x.shape[0], d = x.shape[1];
        var centred = x - x.mean([0]);                                                   // (n, d)
        var cov = centred.t().matmul(centred) / (n - 1);                                 // (d, d)
        return (cov.square().sum() - cov.diagonal().square().sum()) / d;
    }

    /// <summary>
    /// Barlow Twins: each view is standardised per dimension over the batch (<c>(z - mean) / sqrt(var + 1e-5)</c>,
    /// biased variance, as BatchNorm without affine weights), <c>c = z1n^T z2n / n</c> (d, d), and the loss is
    /// <c>sum_i (1 - c_ii)^2 + lambda sum_{i != j} c_ij^2</c>.
    /// </summary>
    public static Tensor BarlowTwins(Tensor z1, Tensor z2, double lambda)
    {
        Loss.CheckSameShape(z1, z2);
        var a = Standardise(Samples(z1, "barlow_twins"));
        var b = Standardise(Samples(z2, "barlow_twins"));
        var c = a.t().matmul(b) / a.shape[0];                                            // (d, d)
        var diagonal = c.diagonal();
        var onDiagonal = (1 - diagonal).square().sum();
        var offDiagonal = c.square().sum() - diagonal.square().sum();
        return onDiagonal + lambda * offDiagonal;
    }

    /// <summary>
    /// LeJEPA's SIGReg: <paramref name="directions"/> random unit directions drawn from <paramref name="generator"/>
    /// (Gaussian, normalised), then <see cref="SigReg(Tensor, Tensor)"/>.
    /// </summary>
    public static Tensor SigReg(Tensor z, int directions, Generator generator)
    {
        if (directions < 1) throw new ArgumentOutOfRangeException(nameof(directions), directions, "sigreg needs at least one direction.");
        var x = Samples(z, "sigreg");
        var a = randn([x.shape[1], directions], dtype: ScalarType.Float32, device: generator.device, generator: generator).to(x.dtype, x.device);
        return SigReg(x, a / a.norm(0, keepdim: true));
    }

    /// <summary>
    /// SIGReg for given unit directions <c>A</c> (d, M): every projection <c>x = z a_m</c> gets the Epps-Pulley statistic
    /// <c>n * integral_{-3}^{3} w(t) |phi_n(t) - exp(-t^2 / 2)|^2 dt</c> with <c>w(t) = exp(-t^2 / 2)</c> and the empirical
    /// characteristic function <c>phi_n(t) = mean_k exp(i t x_k)</c>; the integrand is even, so it is integrated on
    /// [0, 3] with the trapezoid rule on 17 knots and doubled. The result is the mean over the M directions; it is
    /// about 1.05 for a standard Gaussian batch and grows with n for anything else.
    /// </summary>
    public static Tensor SigReg(Tensor z, Tensor directions) => Models.Temporaries.Free(() =>
    {
        // The (n, M, T) cosines and sines are freed on return; autograd keeps xt for the backward pass.
        var x = Samples(z, "sigreg");
        var n = x.shape[0];
        var (t, weights, phi) = EppsPulleyGrid(x.dtype, x.device);                       // (T)
        var xt = x.matmul(directions).unsqueeze(-1) * t;                                 // (n, M, T)
        var err = (xt.cos().mean([0]) - phi).square() + xt.sin().mean([0]).square();   // (M, T)
        return (err.matmul(weights) * n).mean();
    });

    /// <summary>Knots on [0, 3], trapezoid weights doubled for symmetry and multiplied by w(t), and phi(t) = exp(-t^2/2).</summary>
    internal static (Tensor T, Tensor Weights, Tensor Phi) EppsPulleyGrid(ScalarType dtype, Device device, double tMax = 3, int knots = 17)
    {
        var t = linspace(0, tMax, knots, dtype: dtype, device: device);
        var dt = tMax / (knots - 1);
        var trapezoid = full(knots, 2 * dt, dtype: dtype, device: device);             // 2 x (dt inside, dt / 2 at the ends)
        trapezoid[0] = dt;
        trapezoid[knots - 1] = dt;
        var phi = (t.square() * -0.5).exp();
        return (t, trapezoid * phi, phi);
    }

    /// <summary>(n, d) as it is, or tokens (B, N, D) flattened to (B N, D).</summary>
    internal static Tensor Flatten(Tensor z) => z.dim() switch
    {
        2 => z,
        > 2 => z.reshape(-1, z.shape[^1]),
        _ => throw new ArgumentException($"Embeddings must be (n, d) or (B, N, D), got [{string.Join(", ", z.shape)}]."),
    };

    private static Tensor Samples(Tensor z, string name)
    {
        var x = Flatten(z);
        if (x.shape[0] < 2) throw new ArgumentException($"{name} needs at least two embeddings in the batch to compute statistics.");
        return x;
    }

    private static Tensor Standardise(Tensor x) => (x - x.mean([0])) / (x.var(0, unbiased: false) + 1e-5).sqrt();
}
