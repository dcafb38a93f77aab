using Jepa.Runtime.Losses;
using Jepa.Runtime.Masks;
using Jepa.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Training;

/// <summary>
/// The views objective, composed from <see cref="Views"/> as the generated training step composes it, against PyTorch
/// written the way LeJEPA and I-JEPA write it (TestData/views_reference.py prints the values held here): LeJEPA's mean
/// of the global views as the target, with gradient, and a regularizer on each view averaged over the views; an EMA
/// target over pairs of views that leaves out a view with itself. Double precision; tolerance 1e-12 relative.
/// </summary>
public class ViewsTests
{
    private const int V = 4, B = 5, D = 3;

    /// <summary>z[v, b, d] = sin(0.37 (v B D + b D + d) + 0.1), as the script builds it.</summary>
    private static Tensor Representations() => (0.37 * arange(V * B * D, dtype: float64) + 0.1).sin().reshape(V, B, D);

    private static void Close(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"{what}: expected {expected:R}, got {actual:R}");

    [Fact]
    public void LeJepa_objective_matches_PyTorch_value_and_gradient()
    {
        using var scope = NewDisposeScope();
        var z = Representations().requires_grad_(true);
        // As the generated step: the views of one size in one pass each (global: views 0-1, local: views 2-3), stacked
        // view-major; the target is the mean of the global views, read from the context's representations.
        var context = Views.Stack(V, z.narrow(0, 0, 2).reshape(2 * B, D), z.narrow(0, 2, 2).reshape(2 * B, D));   // (4, B, D)
        var target = Views.Mean(context.narrow(0, 0, 2));                                                          // (1, B, D)
        var prediction = Views.Pairwise(context, target, Loss.Mse);
        var variance = Views.MeanOverViews(Regularizers.VicRegVariance, context);
        var covariance = Views.MeanOverViews(Regularizers.VicRegCovariance, context);
        var total = prediction + 25 * variance + covariance;
        total.backward();

        Close(0.5035270824083751, prediction.item<double>(), "prediction");
        Close(0.22239523322613725, variance.item<double>(), "variance per view, averaged");
        Close(0.5665646949421415, covariance.item<double>(), "covariance per view, averaged");
        Close(6.629972608003948, total.item<double>(), "total");
        var gradient = z.grad!.flatten().data<double>().ToArray();
        Assert.Equal(Gradient.Length, gradient.Length);
        for (var i = 0; i < Gradient.Length; i++) Close(Gradient[i], gradient[i], $"gradient {i}");
    }

    [Fact]
    public void Pairs_of_views_leave_out_a_view_with_itself()
    {
        using var scope = NewDisposeScope();
        var predicted = (0.23 * arange(V * B * D, dtype: float64) - 0.4).cos().reshape(V, B, D);   // context views 0-3
        var target = Representations().narrow(0, 0, 2);                                            // target views 0-1
        var pairs = 0;
        var loss = Views.Pairwise(predicted, target, (p, t) => { pairs++; return Loss.SmoothL1(p, t); }, sameView: (0, 0));

        Assert.Equal(4 * 2 - 2, pairs);
        Close(0.45452835592169794, loss.item<double>(), "smooth_l1 over the pairs");
        // Without a declaration in common every pair counts; one view on both sides leaves no pair.
        Assert.Equal(8, CountPairs(predicted, target, null));
        Assert.Equal(6, CountPairs(predicted, target, (0, 1)));   // context views 0-3, target views 1-2: views 1 and 2 left out
        Assert.Equal(8, CountPairs(predicted, target, (2, 0)));   // context views 2-5, target views 0-1: none in common
        Assert.Throws<ArgumentException>(() => Views.Pairwise(target.narrow(0, 0, 1), target.narrow(0, 0, 1), Loss.Mse, sameView: (0, 0)));
    }

    private static int CountPairs(Tensor predicted, Tensor target, (int, int)? sameView)
    {
        var pairs = 0;
        Views.Pairwise(predicted, target, (p, t) => { pairs++; return Loss.Mse(p, t); }, sameView);
        return pairs;
    }

    [Fact]
    public void Draw_lays_the_views_out_view_major_with_a_draw_per_row()
    {
        using var scope = NewDisposeScope();
        var batch = arange(2 * 1 * 2 * 3, dtype: float32).reshape(2, 1, 2, 3);       // B = 2 images of 1 x 2 x 3
        var generator = new Generator(7, CPU);

        // A deterministic link: every view of sample b is sample b flipped, rows v B + b.
        var flipped = Views.Draw(new HorizontalFlip(p: 1.0), batch, 3, generator);
        Assert.Equal([6L, 1, 2, 3], flipped.shape);
        for (var v = 0; v < 3; v++)
        for (var b = 0; b < 2; b++)
            Assert.True(flipped[v * 2 + b].allclose(batch[b].flip(-1), 0, 0), $"view {v} of sample {b}");

        // A random link draws for each row: two views of one sample differ.
        var noisy = Views.Draw(new GaussianNoise(0.5), batch, 2, generator);
        Assert.False(noisy[0].allclose(noisy[2]));
        Assert.True((noisy[0] - batch[0]).abs().max().item<float>() > 0);

        // Stacking splits the rows back into (views, B, ...); rows that do not split are refused.
        Assert.Equal([3L, 2, 1, 2, 3], Views.Stack(3, flipped).shape);
        Assert.True(Views.Stack(3, flipped)[1][0].allclose(flipped[2], 0, 0));
        Assert.Throws<ArgumentException>(() => Views.Stack(4, flipped));
    }

    /// <summary>d total / d z from the script (row-major over (V, B, D)).</summary>
    private static readonly double[] Gradient =
    [
        0.08532072369491461, -0.16277509101689436, -0.3785545145004715, -0.4231539924924031, -0.4609594139969865,
        -0.4492027141521915, -0.3914563712298884, -0.21170984087778197, -0.02177275865460556, 0.1452077696528176,
        0.30813786856312686, 0.428998745621908, 0.5907779301218804, 0.5212008373533159, 0.402450271715393,
        0.5273987583568441, 0.26742968687521884, -0.015391938179660808, -0.15128016828422602, -0.35985783685785394,
        -0.49548493514540315, -0.5606070577504417, -0.49891547740841524, -0.3627022619460597, -0.2459519621357972,
        0.004704883601185761, 0.23547742474335928, 0.4432049514634492, 0.5916437113288174, 0.6346697250788087,
        0.6389338357803234, 0.583660197757367, 0.4220272066104958, 0.21747199336618467, -0.017505882764522036,
        -0.26748388648978205, -0.3797672088237168, -0.5087430499388721, -0.5587201877791895, -0.4894439454163141,
        -0.34444549708827477, -0.12821224560209638, 0.010257208684496137, 0.2929052681810708, 0.5458846847629469,
        0.41742851772450734, 0.5301739871738312, 0.5917165468478557, 0.4233268276164944, 0.2970879967771047,
        0.128216974376195, -0.0385589346795179, -0.22741912188978936, -0.40482710410334327, -0.45522289181939096,
        -0.4607893933495506, -0.41537590848547723, -0.3638859838302154, -0.14382383242209754, 0.10828687528131833,
    ];
}
