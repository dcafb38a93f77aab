using Jepa.Runtime.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Evaluation;

/// <summary>The few-shot probe's accuracy per draw and their mean and (population) standard deviation; how each draw's
/// probe fit ended (<paramref name="Fits"/>, in draw order; null when not recorded).</summary>
public sealed record FewShotResult(int LabelsPerClass, IReadOnlyList<double> Accuracies, IReadOnlyList<ProbeFit>? Fits = null)
{
    /// <summary>The mean accuracy over the draws.</summary>
    public double Mean => Accuracies.Average();

    /// <summary>The standard deviation of the accuracies over the draws (population form).</summary>
    public double Std => Math.Sqrt(Accuracies.Average(a => (a - Mean) * (a - Mean)));
}

/// <summary>
/// The few-shot probe: draw <c>i</c> (i = 0 .. draws - 1) takes <c>labelsPerClass</c> random samples of every class of
/// the train split (all of a class that has fewer), with a generator seeded from <c>i</c> alone, so the draws are the same
/// for every model; trains the linear probe on them and scores it on the whole test split.
/// </summary>
public static class FewShot
{
    private const long Stream = 0x5EED_F5;

    /// <summary>The indices (ascending) of the train rows that draw <paramref name="draw"/> labels.</summary>
    public static long[] Draw(Tensor trainLabels, int labelsPerClass, int draw)
    {
        if (labelsPerClass < 1) throw new ArgumentOutOfRangeException(nameof(labelsPerClass), labelsPerClass, "few_shot needs at least one label per class.");
        var y = trainLabels.to(ScalarType.Int64).cpu().data<long>().ToArray();
        using var generator = new Generator(Seeds.Mix(draw, Stream), torch.CPU);
        var chosen = new List<long>();
        foreach (var group in Enumerable.Range(0, y.Length).GroupBy(i => y[i]).OrderBy(g => g.Key))
        {
            var members = group.ToArray();                                                   // ascending
            using var order = randperm(members.Length, generator: generator);
            chosen.AddRange(order.data<long>().ToArray().Take(labelsPerClass).Select(j => (long)members[j]));
        }
        chosen.Sort();
        return chosen.ToArray();
    }

    /// <summary>Runs the draws and returns their accuracies.</summary>
    public static FewShotResult Evaluate(Tensor train, Tensor trainLabels, Tensor test, Tensor testLabels, FewShotOptions options, int classes)
    {
        if (options.Draws < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Draws, "few_shot needs at least one draw.");
        var accuracies = new List<double>();
        var fits = new List<ProbeFit>();
        for (var draw = 0; draw < options.Draws; draw++)
        {
            using var scope = NewDisposeScope();
            var idx = tensor(Draw(trainLabels, options.LabelsPerClass, draw), device: train.device);
            var probe = LogisticRegression.Fit(train.index_select(0, idx), trainLabels.index_select(0, idx.to(trainLabels.device)), classes, options.Epochs);
            accuracies.Add(probe.Accuracy(test, testLabels));
            fits.Add(ProbeFit.Of(probe, options.Epochs));
        }
        return new FewShotResult(options.LabelsPerClass, accuracies, fits);
    }
}
