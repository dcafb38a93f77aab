using Jepa.Runtime.Masks;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>
/// The training step's operations on several views of each sample (<c>views</c>, docs/language.md). Views are laid out
/// <b>view-major</b>: a batch of <c>V</c> views of <c>B</c> samples is <c>(V B, ...)</c> with rows <c>v B .. (v + 1) B - 1</c>
/// holding view <c>v</c> of every sample, and a side's representations are <c>(V, B, ...)</c>. Views of one size pass
/// through an encoder as one batch (so batch norm normalises them together, as LeJEPA and DINO's multi-crop do).
/// </summary>
public static class Views
{
    /// <summary>
    /// <paramref name="count"/> views of each sample of <paramref name="batch"/> (B, ...) through
    /// <paramref name="corruption"/>: the batch repeated <paramref name="count"/> times along the first axis and
    /// corrupted in one call, each row drawing its own randomness: (count B, ...'), view-major.
    /// </summary>
    public static Tensor Draw(ICorruption corruption, Tensor batch, int count, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(corruption);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var repeats = new long[batch.dim()];
        Array.Fill(repeats, 1L);
        repeats[0] = count;
        return corruption.Apply(count == 1 ? batch : batch.repeat(repeats), generator);
    }

    /// <summary>
    /// The representations of one side, view-major: the encoder's outputs of its passes (each <c>(V_p B, ...)</c>, one
    /// per size of views, in view order) concatenated and split into <paramref name="views"/>: <c>(views, B, ...)</c>.
    /// </summary>
    public static Tensor Stack(int views, params Tensor[] passes)
    {
        ArgumentNullException.ThrowIfNull(passes);
        ArgumentOutOfRangeException.ThrowIfLessThan(views, 1);
        if (passes.Length == 0) throw new ArgumentException("Stack needs at least one pass.", nameof(passes));
        var all = passes.Length == 1 ? passes[0] : cat(passes, 0);                             // (V B, ...)
        if (all.shape[0] % views != 0)
            throw new ArgumentException($"{all.shape[0]} rows do not split into {views} views of one batch.", nameof(passes));
        return all.reshape([views, all.shape[0] / views, .. all.shape[1..]]);                   // (V, B, ...)
    }

    /// <summary>The mean over the views: (V, B, ...) -> (1, B, ...), one view (LeJEPA's target: the mean of the global
    /// views' representations).</summary>
    public static Tensor Mean(Tensor views) => views.mean([0], keepdim: true);

    /// <summary>
    /// The mean of <c>loss(predicted[i], target[j])</c> over every pair of a context view <c>i</c> (of
    /// <paramref name="predicted"/>, (Vc, B, ...)) and a target view <c>j</c> (of <paramref name="target"/>, (Vt, B, ...)),
    /// except a view with itself: when both sides take views of one declaration, context view <c>i</c> is view
    /// <c>sameView.Context + i</c> of it and target view <c>j</c> view <c>sameView.Target + j</c>, and a pair of one view is
    /// left out (its loss would be zero). Without <paramref name="sameView"/> every pair counts.
    /// </summary>
    public static Tensor Pairwise(Tensor predicted, Tensor target, Func<Tensor, Tensor, Tensor> loss, (int Context, int Target)? sameView = null)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(loss);
        Tensor? sum = null;
        var pairs = 0;
        for (var i = 0; i < predicted.shape[0]; i++)
        {
            for (var j = 0; j < target.shape[0]; j++)
            {
                if (sameView is { } first && first.Context + i == first.Target + j) continue;
                var term = loss(predicted[i], target[j]);
                sum = sum is null ? term : sum + term;
                pairs++;
            }
        }
        return sum is null
            ? throw new ArgumentException($"No pair of different views among {predicted.shape[0]} context and {target.shape[0]} target views.")
            : sum / pairs;
    }

    /// <summary>The mean of <c>term(z)</c> over every view <c>z</c> (B, ...) of every side given, each (V, B, ...): a
    /// regularizer per view (LeJEPA's SIGReg on each view).</summary>
    public static Tensor MeanOverViews(Func<Tensor, Tensor> term, params Tensor[] sides)
    {
        ArgumentNullException.ThrowIfNull(term);
        ArgumentNullException.ThrowIfNull(sides);
        Tensor? sum = null;
        var views = 0;
        foreach (var side in sides)
        {
            for (var v = 0; v < side.shape[0]; v++)
            {
                var value = term(side[v]);
                sum = sum is null ? value : sum + value;
                views++;
            }
        }
        return sum is null ? throw new ArgumentException("MeanOverViews needs at least one view.", nameof(sides)) : sum / views;
    }
}
