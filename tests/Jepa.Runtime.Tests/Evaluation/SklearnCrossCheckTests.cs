using System.Runtime.CompilerServices;
using System.Text.Json;
using Jepa.Runtime.Data;
using Jepa.Runtime.Evaluation;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Evaluation;

/// <summary>
/// The linear probe and kNN against scikit-learn 1.2.1 on the digits data (numbers stored by
/// TestData/sklearn_reference.py): test samples are those with index % 4 == 0 (450), the rest train (1,347); feature
/// sets "pixels" (pixels / 16) and "projection" (tanh of a fixed random projection to 32 dimensions).
/// Tolerances: the probe solves the same strictly convex problem, so its objective must match scikit-learn's to
/// 1e-6 relative, its accuracy to one test sample (1/450) and its predictions on at least 99 % of the test samples;
/// kNN is deterministic, so its accuracy must match exactly and its predictions on at least 99.5 % (ties in distance).
/// </summary>
public class SklearnCrossCheckTests(ITestOutputHelper output)
{
    internal static string TestData(string name, [CallerFilePath] string here = "") =>
        Path.Combine(RepositoryRoot.SourceDirectory(here), "..", "TestData", name);

    private static readonly JsonElement Reference = JsonDocument.Parse(File.ReadAllText(TestData("sklearn_reference.json"))).RootElement;

    private static (Tensor TrainX, Tensor TrainY, Tensor TestX, Tensor TestY) Split(string set)
    {
        using var digits = Datasets.Digits();
        var x = digits.Features.to(ScalarType.Float64);
        if (set == "projection")
        {
            var rows = File.ReadAllLines(TestData("random_projection.csv"))
                .Select(l => l.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray();
            var r = tensor(rows.SelectMany(v => v).ToArray(), [64, 32]);
            x = x.matmul(r).tanh();
        }
        var isTest = arange(digits.Count) % 4 == 0;
        var testIdx = isTest.nonzero().squeeze(1);
        var trainIdx = isTest.logical_not().nonzero().squeeze(1);
        return (x.index_select(0, trainIdx), digits.Labels!.index_select(0, trainIdx), x.index_select(0, testIdx), digits.Labels!.index_select(0, testIdx));
    }

    private static double Agreement(Tensor predictions, string reference)
    {
        var ours = predictions.data<long>().ToArray();
        Assert.Equal(reference.Length, ours.Length);
        return ours.Zip(reference).Count(p => p.First == p.Second - '0') / (double)ours.Length;
    }

    [Theory]
    [InlineData("pixels")]
    [InlineData("projection")]
    public void Linear_probe_matches_scikit_learn(string set)
    {
        var (trainX, trainY, testX, testY) = Split(set);
        var expected = Reference.GetProperty("sets").GetProperty(set).GetProperty("logistic");
        var probe = LogisticRegression.Fit(trainX, trainY, 10, maxIterations: 2000);
        var accuracy = probe.Accuracy(testX, testY);
        var agreement = Agreement(probe.Predict(testX), expected.GetProperty("predictions").GetString()!);
        var budget = LogisticRegression.Fit(trainX, trainY, 10, maxIterations: 100);
        output.WriteLine($"{set}: ours {accuracy:P2} ({probe.Iterations} iterations, objective {probe.Objective:G10}), scikit-learn {expected.GetProperty("accuracy").GetDouble():P2} " +
                         $"(objective {expected.GetProperty("objective").GetDouble():G10}); agreement {agreement:P2}; with 100 iterations {budget.Accuracy(testX, testY):P2} (objective {budget.Objective:G10})");
        Assert.True(probe.Converged);
        Assert.Equal(expected.GetProperty("objective").GetDouble(), probe.Objective, 1e-6 * probe.Objective);
        Assert.InRange(accuracy, expected.GetProperty("accuracy").GetDouble() - 1.0 / 450 - 1e-9, expected.GetProperty("accuracy").GetDouble() + 1.0 / 450 + 1e-9);
        Assert.True(agreement >= 0.99, $"agreement {agreement:P2}");
    }

    [Theory]
    [InlineData("pixels")]
    [InlineData("projection")]
    public void Ridge_probe_matches_scikit_learn(string set)
    {
        // The same closed-form problem: the coefficients agree to rounding, and so does every prediction.
        var (trainX, trainY, testX, testY) = Split(set);
        var expected = Reference.GetProperty("sets").GetProperty(set).GetProperty("ridge");
        var probe = RidgeClassifier.Fit(trainX, trainY, 10, alpha: 1.0);
        var (w, b) = probe.Coefficients();
        var coef = expected.GetProperty("coef").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var intercept = expected.GetProperty("intercept").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(w.Length, coef.Length);
        for (var j = 0; j < w.GetLength(0); j++)
            for (var c = 0; c < 10; c++) Assert.Equal(coef[j * 10 + c], w[j, c], 1e-9 * Math.Max(1, Math.Abs(coef[j * 10 + c])));
        for (var c = 0; c < 10; c++) Assert.Equal(intercept[c], b[c], 1e-9 * Math.Max(1, Math.Abs(intercept[c])));
        var accuracy = probe.Accuracy(testX, testY);
        output.WriteLine($"{set}: ridge {accuracy:P2}, scikit-learn {expected.GetProperty("accuracy").GetDouble():P2}");
        Assert.Equal(expected.GetProperty("accuracy").GetDouble(), accuracy, 1e-12);
        Assert.Equal(1.0, Agreement(probe.Predict(testX), expected.GetProperty("predictions").GetString()!));
    }

    [Theory]
    [InlineData("pixels", 5)]
    [InlineData("pixels", 20)]
    [InlineData("projection", 5)]
    [InlineData("projection", 20)]
    public void Knn_matches_scikit_learn(string set, int k)
    {
        var (trainX, trainY, testX, testY) = Split(set);
        var expected = Reference.GetProperty("sets").GetProperty(set).GetProperty($"knn{k}");
        var accuracy = Knn.Accuracy(trainX, trainY, testX, testY, k, 10);
        var agreement = Agreement(Knn.Predict(trainX, trainY, testX, k, 10), expected.GetProperty("predictions").GetString()!);
        output.WriteLine($"{set}, k {k}: ours {accuracy:P2}, scikit-learn {expected.GetProperty("accuracy").GetDouble():P2}; agreement {agreement:P2}");
        Assert.Equal(expected.GetProperty("accuracy").GetDouble(), accuracy, 1e-12);
        Assert.True(agreement >= 0.995, $"agreement {agreement:P2}");
    }
}
