using System.Collections.Generic;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Cost;
using static Jepa.Dsl.Catalog.Parts;

namespace Jepa.Dsl.Catalog;

public static partial class Builtins
{
    // ---- losses ----------------------------------------------------------------------------------------------------

    public static readonly Builtin Mse = new("mse", BuiltinKind.Loss,
        "mean squared error between the prediction and the target",
        BuiltinFlags.Invariance,
        TargetNorm())
    {
        CSharp = new("global::Jepa.Runtime.Losses.Loss.Mse({$predicted}, {$target})"),
        Python = new("L.mse({$predicted}, {$target})"),
    };

    public static readonly Builtin L1 = new("l1", BuiltinKind.Loss,
        "mean absolute error between the prediction and the target",
        BuiltinFlags.Invariance,
        TargetNorm())
    {
        CSharp = new("global::Jepa.Runtime.Losses.Loss.L1({$predicted}, {$target})"),
        Python = new("L.l1({$predicted}, {$target})"),
    };

    public static readonly Builtin Cosine = new("cosine", BuiltinKind.Loss,
        "one minus the cosine similarity of the prediction and the target",
        BuiltinFlags.Invariance,
        TargetNorm())
    {
        CSharp = new("global::Jepa.Runtime.Losses.Loss.Cosine({$predicted}, {$target})"),
        Python = new("L.cosine({$predicted}, {$target})"),
    };

    public static readonly Builtin SmoothL1 = new("smooth_l1", BuiltinKind.Loss,
        "Huber-style loss, quadratic below beta and linear above (I-JEPA)",
        BuiltinFlags.Invariance,
        Num("beta", Positive, 1.0), TargetNorm())
    {
        CSharp = new("global::Jepa.Runtime.Losses.Loss.SmoothL1({$predicted}, {$target}, beta: {beta})"),
        Python = new("L.smooth_l1({$predicted}, {$target}, beta={beta})"),
    };

    public static readonly Builtin InfoNce = new("info_nce", BuiltinKind.Loss,
        "contrastive: each prediction against its target, the batch's other targets as negatives",
        BuiltinFlags.CouplesSamples | BuiltinFlags.OneVectorPerSample,
        Num("temperature", Positive, 0.1), TargetNorm())
    {
        CSharp = new("global::Jepa.Runtime.Losses.Loss.InfoNce({$predicted}, {$target}, temperature: {temperature})"),
        Python = new("L.info_nce({$predicted}, {$target}, {temperature}, first={$first})", Coupling: PythonCoupling.Gather,
            CouplingNote: "each process's predictions are scored against the targets of every process, gathered (autograd-aware, so " +
                          "the gradient of every process's loss reaches each target); the positive of this process's row i is global row first + i"),
    };

    /// <summary>The built-in losses.</summary>
    public static IReadOnlyList<Builtin> Losses { get; } = new[] { Mse, L1, Cosine, SmoothL1, InfoNce };

    // ---- regularizers ----------------------------------------------------------------------------------------------

    public static readonly Builtin VicReg = new("vicreg", BuiltinKind.Regularizer,
        "VICReg's variance (hinge on each feature's std) and covariance (off-diagonal) terms",
        BuiltinFlags.CouplesSamples | BuiltinFlags.BatchStatistics,
        Num("variance", NonNegative, 25), Num("covariance", NonNegative, 1))
    {
        Terms = EquatableArray.Create(
            new RegularizerTerm("vicreg_variance", "variance", "global::Jepa.Runtime.Losses.Regularizers.VicRegVariance({$z})") { Python = "L.vicreg_variance({$z})" },
            new RegularizerTerm("vicreg_covariance", "covariance", "global::Jepa.Runtime.Losses.Regularizers.VicRegCovariance({$z})") { Python = "L.vicreg_covariance({$z})" }),
        RegularizerValues = (_, samples, width) => MemoryModel.VicRegValues(samples, width),
        Python = new(null, Coupling: PythonCoupling.Gather,
            CouplingNote: "its variance and covariance are over the embeddings of every process, gathered (autograd-aware)"),
    };

    public static readonly Builtin BarlowTwins = new("barlow_twins", BuiltinKind.Regularizer,
        "Barlow Twins: the cross-correlation of context and target features pushed to the identity",
        BuiltinFlags.CouplesSamples | BuiltinFlags.BatchStatistics | BuiltinFlags.PairsSides,
        Num("lambda", Positive, 0.005))
    {
        Terms = EquatableArray.Create(
            new RegularizerTerm("barlow_twins", null, "global::Jepa.Runtime.Losses.Regularizers.BarlowTwins({$z1}, {$z2}, {lambda})") { Python = "L.barlow_twins({$z1}, {$z2}, {lambda})" }),
        RegularizerValues = (_, samples, width) => MemoryModel.BarlowTwinsValues(samples, width),
        Python = new(null, Coupling: PythonCoupling.Gather,
            CouplingNote: "its cross-correlation is over the context and target representations of every process, gathered (autograd-aware)"),
    };

    public static readonly Builtin SigReg = new("sigreg", BuiltinKind.Regularizer,
        "LeJEPA's SIGReg: random 1-D projections tested against a standard normal",
        BuiltinFlags.CouplesSamples,
        Int("directions", AtLeastOne, 256), Num("weight", Unit, 0.05))
    {
        Terms = EquatableArray.Create(
            new RegularizerTerm("sigreg", "weight", "global::Jepa.Runtime.Losses.Regularizers.SigReg({$z}, {directions}, {$generator})") { Python = "L.sigreg({$z}, {$drawn}, reduce={$reduce})" }),
        RegularizerValues = (call, samples, _) => call.GetInt("directions") is { } directions ? MemoryModel.SigRegValues(samples, directions) : null,
        Python = new(null, Coupling: PythonCoupling.Reduce,
            CouplingNote: "its statistic is over the global batch, so each process's sums of cos and sin are all-reduced (autograd-aware) before the statistic is taken",
            Draw: new PythonDraw("directions", "L.sigreg_directions({$width}, {directions}, {$generator})", "SIGReg's random directions, the same on every process")),
        SharesPredictionWeight = new("weight", "SIGReg's weight w follows LeJEPA: L = (1 - w) * L_pred + w * SIGReg"),
    };

    /// <summary>The built-in regularizers.</summary>
    public static IReadOnlyList<Builtin> Regularizers { get; } = new[] { VicReg, BarlowTwins, SigReg };
}
