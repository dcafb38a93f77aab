using static TorchSharp.torch;

namespace Jepa.Runtime.Evaluation;

/// <summary>
/// k-nearest-neighbour classification by cosine similarity: rows are L2-normalised (a zero row stays zero), each test
/// row takes the k train rows of largest similarity, and the class with the most votes wins (uniform weights; a tie
/// goes to the smallest label, as scikit-learn's <c>KNeighborsClassifier</c>). Test rows are processed in chunks, so
/// memory stays at <c>chunk x N_train</c>.
/// </summary>
public static class Knn
{
    /// <summary>The predicted class of each test row (M).</summary>
    public static Tensor Predict(Tensor train, Tensor trainLabels, Tensor test, int k, int classes, int chunk = 1024)
    {
        if (k < 1 || k > train.shape[0]) throw new ArgumentOutOfRangeException(nameof(k), k, $"knn needs 1 <= k <= {train.shape[0]} (the train split).");
        using var scope = NewDisposeScope();
        var reference = Unit(train);                                                       // (N, D)
        var labels = trainLabels.to(ScalarType.Int64).cpu();
        var predictions = new List<Tensor>();
        for (long start = 0; start < test.shape[0]; start += chunk)
        {
            var queries = Unit(test.narrow(0, start, Math.Min(chunk, test.shape[0] - start)));   // (m, D)
            var nearest = queries.matmul(reference.t()).topk(k, 1).indexes;                   // (m, k)
            var votes = nn.functional.one_hot(labels[nearest], classes).sum([1]);            // (m, C)
            predictions.Add(votes.argmax(1));                                                  // first maximum: the smallest label
        }
        return cat(predictions, 0).MoveToOuterDisposeScope();
    }

    /// <summary>The fraction of test rows whose predicted class is their label.</summary>
    public static double Accuracy(Tensor train, Tensor trainLabels, Tensor test, Tensor testLabels, int k, int classes)
    {
        using var scope = NewDisposeScope();
        return Predict(train, trainLabels, test, k, classes).eq(testLabels.to(ScalarType.Int64).cpu()).to(ScalarType.Float64).mean().item<double>();
    }

    private static Tensor Unit(Tensor x)
    {
        var rows = x.to(ScalarType.Float64).cpu();
        return rows / rows.norm(1, keepdim: true).clamp_min(1e-12);
    }
}
