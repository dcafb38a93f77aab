using Jepa.Runtime.Data;
using Jepa.Runtime.Evaluation;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Evaluation;

public class ProbeTests(ITestOutputHelper output)
{
    [Fact]
    public void Logistic_regression_reaches_a_zero_gradient_of_the_documented_objective()
    {
        // A small problem whose gradient is written out by hand: at the solution
        // dF/dW_jc = mean_i x_ij (p_ic - [y_i = c]) + W_jc / (C N) = 0 and dF/db_c = mean_i (p_ic - [y_i = c]) = 0.
        var g = new Generator(1, torch.CPU);
        const int n = 30, d = 3, classes = 3;
        var x = randn(n, d, generator: g).to(ScalarType.Float64);
        var y = randint(0, classes, [n], generator: g);
        var probe = LogisticRegression.Fit(x, y, classes, maxIterations: 500, c: 0.5);
        Assert.True(probe.Converged);
        var logits = probe.Logits(x).data<double>().ToArray();
        var xs = x.data<double>().ToArray();
        var ys = y.data<long>().ToArray();
        // Recover W and b from the logits of unit vectors.
        var basis = cat([zeros(1, d, dtype: ScalarType.Float64), eye(d, dtype: ScalarType.Float64)], 0);
        var z = probe.Logits(basis).data<double>().ToArray();
        double[] b = z[..classes];
        var w = new double[d, classes];
        for (var j = 0; j < d; j++) for (var c = 0; c < classes; c++) w[j, c] = z[(j + 1) * classes + c] - b[c];
        var gw = new double[d, classes];
        var gb = new double[classes];
        double ce = 0;
        for (var i = 0; i < n; i++)
        {
            var row = logits.AsSpan(i * classes, classes).ToArray();
            var max = row.Max();
            var sum = row.Sum(v => Math.Exp(v - max));
            ce += -(row[ys[i]] - max - Math.Log(sum)) / n;
            for (var c = 0; c < classes; c++)
            {
                var residual = (Math.Exp(row[c] - max) / sum - (ys[i] == c ? 1 : 0)) / n;
                gb[c] += residual;
                for (var j = 0; j < d; j++) gw[j, c] += xs[i * d + j] * residual;
            }
        }
        double penalty = 0;
        for (var j = 0; j < d; j++) for (var c = 0; c < classes; c++) { gw[j, c] += w[j, c] / (0.5 * n); penalty += w[j, c] * w[j, c] / (2 * 0.5 * n); }
        Assert.All(gb, v => Assert.InRange(v, -1e-6, 1e-6));
        foreach (var v in gw) Assert.InRange(v, -1e-6, 1e-6);
        Assert.Equal(ce + penalty, probe.Objective, 1e-10);
    }

    [Fact]
    public void Logistic_regression_says_how_its_fit_ended()
    {
        // The same problem with a budget it cannot converge in, and with one it can: the gradient it stopped at is the
        // documented objective's, so a fit that ran out of iterations reports a gradient above the tolerance.
        var g = new Generator(1, torch.CPU);
        var x = randn(30, 3, generator: g).to(ScalarType.Float64);
        var y = randint(0, 3, [30], generator: g);

        var cut = LogisticRegression.Fit(x, y, 3, maxIterations: 2, c: 0.5);
        var full = LogisticRegression.Fit(x, y, 3, maxIterations: 500, c: 0.5);

        Assert.False(cut.Converged);
        Assert.Equal(2, cut.Iterations);
        Assert.True(cut.LargestGradient > LogisticRegression.GradientTolerance, $"{cut.LargestGradient}");
        Assert.True(full.Converged);
        Assert.InRange(full.Iterations, 3, 499);
        Assert.InRange(full.LargestGradient, 0.0, LogisticRegression.GradientTolerance);
        Assert.Equal(new ProbeFit(2, 2, false, cut.LargestGradient), ProbeFit.Of(cut, 2));
    }

    [Fact]
    public void Knn_breaks_vote_ties_towards_the_smallest_label()
    {
        // Two neighbours, one of class 3 and one of class 1: a tie, so class 1.
        var train = tensor(new double[] { 1, 0, 0.9, 0.1, -1, 0 }, [3, 2]);
        var labels = tensor(new long[] { 3, 1, 2 });
        var query = tensor(new double[] { 1, 0.05 }, [1, 2]);
        Assert.Equal(1, Knn.Predict(train, labels, query, 2, 4).item<long>());
        Assert.Equal(3, Knn.Predict(train, labels, query, 1, 4).item<long>());
        // Cosine: the scale of a row does not matter.
        Assert.Equal(1, Knn.Predict(train * tensor(new double[] { 5, 0.1, 1 }).unsqueeze(1), labels, query, 2, 4).item<long>());
    }

    [Fact]
    public void Few_shot_draws_are_fixed_by_the_draw_index()
    {
        var labels = tensor(Enumerable.Range(0, 100).Select(i => (long)(i % 4 == 3 && i > 20 ? 2 : i % 3)).ToArray());
        var draw0 = FewShot.Draw(labels, 5, 0);
        Assert.Equal(draw0, FewShot.Draw(labels, 5, 0));
        Assert.NotEqual(draw0, FewShot.Draw(labels, 5, 1));
        var y = labels.data<long>().ToArray();
        Assert.All(Enumerable.Range(0, 3), c => Assert.Equal(5, draw0.Count(i => y[i] == c)));
        // A class with fewer samples than asked contributes all of them.
        var rare = tensor(new long[] { 0, 0, 0, 1, 0, 0 });
        Assert.Contains(3L, FewShot.Draw(rare, 3, 0));
        Assert.Equal(4, FewShot.Draw(rare, 3, 0).Length);
    }

    [Fact]
    public void Evaluator_runs_every_probe_on_the_digits()
    {
        using var digits = Datasets.Digits();
        var options = new EvaluationOptions
        {
            LinearProbe = new LinearProbeOptions(100),
            FewShot = new FewShotOptions(10, 3),
            Knn = new KnnOptions(20),
        };
        var report = Evaluator.Run(x => x * 1, digits, options, seed: 0);
        output.WriteLine(report.ToString());
        Assert.Equal(450, report.TestCount);
        Assert.Equal(1347, report.TrainCount);
        Assert.Equal(64, report.EmbeddingWidth);
        // Raw pixels: about 97 % (linear), 90 % (10 labels per class) and 97 % (kNN) in the calibration trial.
        Assert.InRange(report.LinearProbe!.Value, 0.94, 1.0);
        Assert.InRange(report.FewShot!.Mean, 0.82, 0.97);
        Assert.Equal(3, report.FewShot.Accuracies.Count);
        Assert.InRange(report.Knn!.Value, 0.92, 1.0);   // 94.4 % on this split; scikit-learn agrees on it
        // How the fits ended travels with the accuracies: the budget is the one configured, one fit per draw.
        Assert.Equal(100, report.LinearProbeFit!.Budget);
        Assert.InRange(report.LinearProbeFit.Iterations, 1, 100);
        Assert.Equal(report.LinearProbeFit.Converged, report.LinearProbeFit.Iterations < 100 || report.LinearProbeFit.LargestGradient < LogisticRegression.GradientTolerance);
        Assert.Equal(3, report.FewShot.Fits!.Count);
        Assert.All(report.FewShot.Fits, f => Assert.Equal(100, f.Budget));
    }

    [Fact]
    public void Probes_do_not_depend_on_the_scale_of_the_embeddings_but_still_see_collapse()
    {
        using var digits = Datasets.Digits();
        var options = new EvaluationOptions { LinearProbe = new LinearProbeOptions(100), FewShot = new FewShotOptions(10, 2) };
        var unit = Evaluator.Run(x => x * 1, digits, options, seed: 0);
        var tiny = Evaluator.Run(x => x * 0.01, digits, options, seed: 0);
        // Equal up to float rounding of the rescaled inputs: within two of the 450 test samples (counted in samples:
        // two samples' difference of two accuracies is 2/450 plus or minus a rounding error of the doubles).
        Assert.InRange(Math.Round(Math.Abs(unit.LinearProbe!.Value - tiny.LinearProbe!.Value) * 450), 0, 2);
        Assert.InRange(Math.Round(Math.Abs(unit.FewShot!.Mean - tiny.FewShot!.Mean) * 450, 6), 0, 2);

        // A collapsed encoder: one point for every input, plus variations a million times smaller.
        var collapsed = Evaluator.Run(x => torch.ones(x.shape[0], 64) + 1e-6 * x, digits, options, seed: 0);
        Assert.InRange(collapsed.LinearProbe!.Value, 0.0, 0.3);
    }

    [Fact]
    public void Evaluation_without_labels_names_the_probes_that_need_them()
    {
        using var unlabelled = new JepaDataset(rand(20, 4), source: "my tensors");
        var options = new EvaluationOptions { LinearProbe = new LinearProbeOptions(), Knn = new KnnOptions(3) };
        var e = Assert.Throws<DataException>(() => Evaluator.Run(x => x, unlabelled, options, 0));
        Assert.Equal("linear_probe, knn needs labels, but my tensors has none. Load it with a label column, or pass labels with the features.", e.Message);
    }

    [Fact]
    public void Options_serialise_only_their_settings()
    {
        var options = new EvaluationOptions { FewShot = new FewShotOptions(5, 3), Knn = new KnnOptions(7) };
        var json = System.Text.Json.JsonSerializer.Serialize(options);
        Assert.Equal("{\"LinearProbe\":null,\"FewShot\":{\"LabelsPerClass\":5,\"Draws\":3,\"Epochs\":100},\"Knn\":{\"K\":7},\"Online\":null,\"TestFraction\":0.25}", json);
        Assert.Equal(options, System.Text.Json.JsonSerializer.Deserialize<EvaluationOptions>(json));
        var online = options with { Online = new OnlineEvaluationOptions(500, 1000) };
        var onlineJson = System.Text.Json.JsonSerializer.Serialize(online);
        Assert.Contains("\"Online\":{\"Every\":500,\"Samples\":1000}", onlineJson);
        Assert.Equal(online, System.Text.Json.JsonSerializer.Deserialize<EvaluationOptions>(onlineJson));
    }

    [Fact]
    public void Token_embeddings_are_mean_pooled()
    {
        using var data = new JepaDataset(arange(24, dtype: ScalarType.Float32).reshape(2, 3, 4));
        var embedded = Evaluator.Embed(x => x, data, batchSize: 1);
        Assert.Equal(new long[] { 2, 4 }, embedded.shape);
        Assert.Equal(new float[] { 4, 5, 6, 7 }, embedded[0].data<float>().ToArray());
    }
}
