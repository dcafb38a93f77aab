using System.Collections.Generic;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Cost;
using static Jepa.Dsl.Catalog.Parts;

namespace Jepa.Dsl.Catalog;

public static partial class Builtins
{
    public static readonly Builtin RandomMask = new("random_mask", BuiltinKind.Corruption,
        "a random ratio of the tokens (a token mask on a token encoder) or of the features of each sample",
        BuiltinFlags.TokenMaskOnTokens,
        Num("ratio", OpenUnit, 0.5))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.RandomFeatureMask({ratio})",
            TokenMask: "new global::Jepa.Runtime.Masks.RandomTokenMask(grid: {$grid}, ratio: {ratio})"),
        TokenCounts = (call, tokens) => call.GetNumber("ratio") is { } ratio ? CostModel.RandomMaskTokens(tokens, ratio) : null,
        MaskNote = "a random set of target tokens, the rest is the context",
    };

    public static readonly Builtin BlockMask = new("block_mask", BuiltinKind.Corruption,
        "I-JEPA's multi-block mask: target blocks and one context block without them (a token mask)",
        BuiltinFlags.TokenMask,
        Int("targets", AtLeastOne, 4),
        Range("target_scale", UnitFromAbove, (0.15, 0.2)),
        Range("context_scale", UnitFromAbove, (0.85, 1.0)),
        Range("aspect", Positive, (0.75, 1.5)),
        Int("min_keep", AtLeastOne, 4))
    {
        CSharp = new(null, TokenMask: "new global::Jepa.Runtime.Masks.MultiBlockMask(grid: {$grid}, targets: {targets}, targetScale: {target_scale}, " +
                                      "contextScale: {context_scale}, aspect: {aspect}, minKeep: {min_keep})"),
        TokenCounts = (call, tokens) =>
            call.GetInt("targets") is { } targets && call.GetRange("target_scale") is { } targetScale
            && call.GetRange("context_scale") is { } contextScale && call.GetInt("min_keep") is { } minKeep
                ? CostModel.BlockMaskTokens(tokens, targets, targetScale, contextScale, minKeep)
                : null,
        MaskNote = "target blocks and one context block without them (I-JEPA multi-block)",
    };

    public static readonly Builtin GaussianNoise = new("gaussian_noise", BuiltinKind.Corruption,
        "adds N(0, std^2) noise to every element",
        BuiltinFlags.None,
        Num("std", NonNegative, required: true, note: "the noise's standard deviation"))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.GaussianNoise({std})"),
    };

    public static readonly Builtin FeatureDropout = new("feature_dropout", BuiltinKind.Corruption,
        "zeroes each feature with probability p",
        BuiltinFlags.None,
        Num("p", HalfOpenUnit, required: true, note: "the probability of dropping a feature"))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.FeatureDropout({p})"),
    };

    public static readonly Builtin RandomCrop = new("random_crop", BuiltinKind.Corruption,
        "crops a random region (area fraction scale, aspect ratio aspect) and resizes it back",
        BuiltinFlags.NeedsImage,
        Range("scale", UnitFromAbove, required: true, note: "the crop's area as a fraction of the image, a..b"),
        Range("aspect", Positive, (0.75, 1.3333)))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.RandomCrop({scale}.Min, {scale}.Max, {aspect}.Min, {aspect}.Max)"),
    };

    public static readonly Builtin HorizontalFlip = new("hflip", BuiltinKind.Corruption,
        "flips each image left to right with probability p",
        BuiltinFlags.NeedsImage,
        Num("p", Unit, 0.5))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.HorizontalFlip({p})"),
    };

    /// <summary>The links of a corruption chain.</summary>
    public static IReadOnlyList<Builtin> Corruptions { get; } = new[] { RandomMask, BlockMask, GaussianNoise, FeatureDropout, RandomCrop, HorizontalFlip };
}
