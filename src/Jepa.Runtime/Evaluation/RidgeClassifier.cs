using static TorchSharp.torch;

namespace Jepa.Runtime.Evaluation;

/// <summary>
/// A linear classifier in closed form, as scikit-learn's <c>RidgeClassifier(alpha)</c> (with an intercept): each class
/// is a target of +1 for its samples and -1 for the others, the features and targets are centred, and
/// <c>W = (Xc^T Xc + alpha I)^-1 Xc^T Yc</c> (one linear solve, in float64), <c>b = mean(Y) - mean(X) W</c>; a sample
/// gets the class of its largest score (ties to the smallest). The online evaluation uses it: one solve of a
/// <c>D x D</c> system costs milliseconds where the logistic probe's L-BFGS takes hundreds of passes over the data.
/// </summary>
public sealed class RidgeClassifier : LinearClassifier
{
    private RidgeClassifier(double[] theta, int features, int classes) : base(theta, features, classes)
    {
    }

    /// <summary>Fits the classifier on <paramref name="x"/> (N, D) and <paramref name="y"/> (N) with labels in [0, classes).</summary>
    public static RidgeClassifier Fit(Tensor x, Tensor y, int classes, double alpha = 1.0)
    {
        if (x.dim() != 2 || y.dim() != 1 || x.shape[0] != y.shape[0] || x.shape[0] == 0)
            throw new ArgumentException($"The ridge probe needs embeddings (N, D) and labels (N) with N > 0, got [{string.Join(", ", x.shape)}] and [{string.Join(", ", y.shape)}].");
        if (!(alpha > 0) || !double.IsFinite(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be positive and finite.");
        using var scope = NewDisposeScope();
        var d = x.shape[1];
        var features = x.to(ScalarType.Float64).cpu();
        var targets = nn.functional.one_hot(y.to(ScalarType.Int64).cpu(), classes).to(ScalarType.Float64) * 2 - 1;   // (N, C) in {-1, +1}
        var xMean = features.mean([0], keepdim: true);                                                               // (1, D)
        var yMean = targets.mean([0], keepdim: true);                                                                // (1, C)
        var xc = features - xMean;
        var gram = xc.t().matmul(xc) + eye(d, dtype: ScalarType.Float64) * alpha;                                   // (D, D), positive definite
        var w = linalg.solve(gram, xc.t().matmul(targets - yMean));                                                  // (D, C)
        var intercept = yMean - xMean.matmul(w);                                                                     // (1, C)
        return new RidgeClassifier(cat([w, intercept], 0).contiguous().data<double>().ToArray(), (int)d, classes);
    }
}
