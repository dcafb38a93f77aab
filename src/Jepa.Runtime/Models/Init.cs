using static TorchSharp.torch;

namespace Jepa.Runtime.Models;

/// <summary>Weight initialisation helpers.</summary>
internal static class Init
{
    /// <summary>
    /// Fills <paramref name="t"/> from a normal distribution N(0, std^2) truncated to [-2 std, 2 std], by the inverse CDF
    /// (TorchSharp 0.107's <c>nn.init.trunc_normal_</c> returns a constant, so it is not used). Draws from the default
    /// generator, which the trainer's initialisation scope seeds.
    /// </summary>
    public static void TruncatedNormal(Tensor t, double std)
    {
        using var _ = no_grad();
        // Phi(+-2) = 0.5 (1 +- erf(2 / sqrt 2)); sample u in [2 Phi(-2) - 1, 2 Phi(2) - 1] = [-erf(sqrt 2), erf(sqrt 2)].
        const double bound = 0.9544997361036416;   // erf(sqrt(2))
        t.uniform_(-bound, bound).erfinv_().mul_(std * Math.Sqrt(2.0)).clamp_(-2 * std, 2 * std);
    }
}
