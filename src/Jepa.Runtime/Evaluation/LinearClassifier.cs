using static TorchSharp.torch;

namespace Jepa.Runtime.Evaluation;

/// <summary>
/// A fitted linear classifier on embeddings: weights (D, C) and an intercept (C), float64 on the CPU; a sample gets the
/// class of its largest score, ties to the smallest. <see cref="LogisticRegression"/> and <see cref="RidgeClassifier"/>
/// differ only in how they fit.
/// </summary>
public abstract class LinearClassifier
{
    private readonly double[] theta;   // (D + 1) x C, row-major; the last row is the intercept

    private protected LinearClassifier(double[] theta, int features, int classes)
    {
        this.theta = theta;
        Features = features;
        Classes = classes;
    }

    /// <summary>The embedding width D.</summary>
    public int Features { get; }

    /// <summary>The number of classes C.</summary>
    public int Classes { get; }

    /// <summary>The weights (D, C) and the intercept (C).</summary>
    public (double[,] Weights, double[] Intercept) Coefficients()
    {
        var w = new double[Features, Classes];
        for (var j = 0; j < Features; j++)
            for (var c = 0; c < Classes; c++) w[j, c] = theta[j * Classes + c];
        return (w, theta[(Features * Classes)..]);
    }

    /// <summary>The scores (logits for the logistic probe) (N, C) for embeddings (N, D), float64.</summary>
    public Tensor Scores(Tensor x)
    {
        using var scope = NewDisposeScope();
        var w = tensor(theta, [Features + 1, Classes]);
        var scores = x.to(ScalarType.Float64).cpu().matmul(w[..Features]) + w[Features];
        return scores.MoveToOuterDisposeScope();
    }

    /// <summary>The predicted class of each row (N), ties to the smallest class.</summary>
    public Tensor Predict(Tensor x) => Scores(x).argmax(1);

    /// <summary>The fraction of rows of <paramref name="x"/> predicted as <paramref name="y"/>.</summary>
    public double Accuracy(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        return Predict(x).eq(y.to(ScalarType.Int64).cpu()).to(ScalarType.Float64).mean().item<double>();
    }
}
