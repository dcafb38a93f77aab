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
        Python = new("C.RandomFeatureMask(ratio={ratio})", TokenMask: "C.RandomTokenMask(grid={$grid}, ratio={ratio})"),
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
        Python = new(null, TokenMask: "C.MultiBlockMask(grid={$grid}, targets={targets}, target_scale={target_scale}, " +
                                      "context_scale={context_scale}, aspect={aspect}, min_keep={min_keep})"),
        TokenCounts = (call, tokens) =>
            call.GetInt("targets") is { } targets && call.GetRange("target_scale") is { } targetScale
            && call.GetRange("context_scale") is { } contextScale && call.GetInt("min_keep") is { } minKeep
                ? CostModel.BlockMaskTokens(tokens, targets, targetScale, contextScale, minKeep)
                : null,
        PeakContextTokens = (call, tokens) =>
            call.GetRange("target_scale") is { } targetScale && call.GetRange("context_scale") is { } contextScale && call.GetInt("min_keep") is { } minKeep
                ? CostModel.BlockMaskPeakContext(tokens, targetScale, contextScale, minKeep)
                : null,
        MaskNote = "target blocks and one context block without them (I-JEPA multi-block)",
    };

    public static readonly Builtin GaussianNoise = new("gaussian_noise", BuiltinKind.Corruption,
        "adds N(0, std^2) noise to every element",
        BuiltinFlags.None,
        Num("std", NonNegative, required: true, note: "the noise's standard deviation"))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.GaussianNoise({std})"),
        Python = new("C.GaussianNoise(std={std})"),
    };

    public static readonly Builtin FeatureDropout = new("feature_dropout", BuiltinKind.Corruption,
        "zeroes each feature with probability p",
        BuiltinFlags.None,
        Num("p", HalfOpenUnit, required: true, note: "the probability of dropping a feature"))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.FeatureDropout({p})"),
        Python = new("C.FeatureDropout(p={p})"),
    };

    public static readonly Builtin RandomResizedCrop = new("random_resized_crop", BuiltinKind.Corruption,
        "torchvision's RandomResizedCrop: a random box (area fraction scale, width / height ratio), resized to size",
        BuiltinFlags.NeedsImage,
        Range("scale", UnitFromAbove, (0.08, 1.0)),
        Range("ratio", Positive, (0.75, 1.3333)),
        Size("the input's [h, w]"))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.RandomResizedCrop(scale: {scale}, ratio: {ratio}, size: {size})"),
        Python = new("C.RandomResizedCrop(scale={scale}, ratio={ratio}, size={size})"),
        LinkShape = (input, call) => call.GetSize("size") is { } size && input.IsKnown && input.Rank == 3
            ? Binding.Shape.Of(input.Dims[0].Size, size.Height, size.Width)
            : input,
    };

    /// <summary>The crop of before <see cref="RandomResizedCrop"/>, kept: its box rule differs (continuous boxes, the
    /// output the input's size), and the examples that use it keep their numbers.</summary>
    public static readonly Builtin RandomCrop = new("random_crop", BuiltinKind.Corruption,
        "crops a random region (area fraction scale, aspect ratio aspect) and resizes it back; see random_resized_crop",
        BuiltinFlags.NeedsImage,
        Range("scale", UnitFromAbove, required: true, note: "the crop's area as a fraction of the image, a..b"),
        Range("aspect", Positive, (0.75, 1.3333)))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.RandomCrop({scale}.Min, {scale}.Max, {aspect}.Min, {aspect}.Max)"),
        Python = new("C.RandomCrop(scale={scale}, aspect={aspect})"),
    };

    public static readonly Builtin HorizontalFlip = new("hflip", BuiltinKind.Corruption,
        "flips each image left to right with probability p",
        BuiltinFlags.NeedsImage,
        P(0.5))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.HorizontalFlip({p})"),
        Python = new("C.HorizontalFlip(p={p})"),
    };

    public static readonly Builtin RandomRotation = new("random_rotation", BuiltinKind.Corruption,
        "torchvision's RandomRotation: each image turned about its centre by an angle uniform in [-degrees, degrees], bilinear, the corners filled with fill",
        BuiltinFlags.NeedsImage,
        Num("degrees", Bounds.Between(0, true, 180, true), required: true, note: "the largest angle either way"),
        Num("fill", Unit, 0))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.RandomRotation(degrees: {degrees}, fill: {fill})"),
        Python = new("C.RandomRotation(degrees={degrees}, fill={fill})"),
    };

    public static readonly Builtin RandomAffine = new("random_affine", BuiltinKind.Corruption,
        "torchvision's RandomAffine: each image turned (angle uniform in [-degrees, degrees]), moved (whole pixels, up to translate of its width and height), zoomed (factor uniform in scale) and sheared horizontally (angle uniform in [-shear, shear]) about its centre, bilinear, the area from outside filled with fill",
        BuiltinFlags.NeedsImage,
        Num("degrees", Bounds.Between(0, true, 180, true), required: true, note: "the largest angle either way"),
        Num("translate", Unit, 0),
        Range("scale", Positive, (1.0, 1.0)),
        Num("shear", Bounds.Between(0, true, 89, true), 0),
        Num("fill", Unit, 0))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.RandomAffine(degrees: {degrees}, translate: {translate}, scale: {scale}, shear: {shear}, fill: {fill})"),
        Python = new("C.RandomAffine(degrees={degrees}, translate={translate}, scale={scale}, shear={shear}, fill={fill})"),
    };

    public static readonly Builtin ElasticTransform = new("elastic_transform", BuiltinKind.Corruption,
        "torchvision's ElasticTransform: each image warped by its own smooth random displacement (uniform noise blurred by a Gaussian of sigma pixels, scaled by alpha), bilinear, the area from outside filled with fill",
        BuiltinFlags.NeedsImage,
        Num("alpha", NonNegative, 50, note: "the displacement's strength: a smoothed field value f moves a pixel by alpha f / 2 pixels"),
        Num("sigma", NonNegative, 5, note: "pixels; the blur's kernel int(8 sigma + 1), made odd, needs images larger than half of it"),
        Num("fill", Unit, 0))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.ElasticTransform(alpha: {alpha}, sigma: {sigma}, fill: {fill})"),
        Python = new("C.ElasticTransform(alpha={alpha}, sigma={sigma}, fill={fill})"),
    };

    public static readonly Builtin ColorJitter = new("color_jitter", BuiltinKind.Corruption,
        "with probability p, brightness, contrast, saturation and hue factors in a random order (saturation and hue need 3 channels)",
        BuiltinFlags.NeedsImage,
        Num("brightness", NonNegative, 0.4),
        Num("contrast", NonNegative, 0.4),
        new Parameter("saturation", ParameterType.Number, NonNegative, N(0.2)) { NeedsColourUnlessZero = true },
        new Parameter("hue", ParameterType.Number, Bounds.Between(0, true, 0.5, true), N(0.1)) { NeedsColourUnlessZero = true },
        P(0.8))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.ColorJitter(brightness: {brightness}, contrast: {contrast}, saturation: {saturation}, hue: {hue}, p: {p})"),
        Python = new("C.ColorJitter(brightness={brightness}, contrast={contrast}, saturation={saturation}, hue={hue}, p={p})"),
    };

    public static readonly Builtin Grayscale = new("grayscale", BuiltinKind.Corruption,
        "with probability p, the luma 0.2989 R + 0.587 G + 0.114 B in all three channels",
        BuiltinFlags.NeedsImage | BuiltinFlags.NeedsColour,
        P(0.2))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.Grayscale({p})"),
        Python = new("C.Grayscale(p={p})"),
    };

    public static readonly Builtin GaussianBlur = new("gaussian_blur", BuiltinKind.Corruption,
        "with probability p, a Gaussian blur of standard deviation sigma (pixels, drawn per sample)",
        BuiltinFlags.NeedsImage,
        Range("sigma", Positive, (0.1, 2.0)),
        P(0.5))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.GaussianBlur(sigma: {sigma}, p: {p})"),
        Python = new("C.GaussianBlur(sigma={sigma}, p={p})"),
    };

    public static readonly Builtin Solarize = new("solarize", BuiltinKind.Corruption,
        "with probability p, every pixel at or above threshold becomes 1 - x",
        BuiltinFlags.NeedsImage,
        Num("threshold", Unit, 0.5),
        P(0.2))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.Solarize(threshold: {threshold}, p: {p})"),
        Python = new("C.Solarize(threshold={threshold}, p={p})"),
    };

    public static readonly Builtin RandomErasing = new("random_erasing", BuiltinKind.Corruption,
        "cutout, torchvision's RandomErasing: with probability p a random box (area fraction scale, height / width ratio) set to value",
        BuiltinFlags.NeedsImage,
        Range("scale", UnitFromAbove, (0.02, 0.33)),
        Range("ratio", Positive, (0.3, 3.3)),
        Any("value", 0),
        P(0.5))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.RandomErasing(scale: {scale}, ratio: {ratio}, value: {value}, p: {p})"),
        Python = new("C.RandomErasing(scale={scale}, ratio={ratio}, value={value}, p={p})"),
    };

    public static readonly Builtin PixelBlockMask = new("pixel_block_mask", BuiltinKind.Corruption,
        "block_mask on patch x patch pixel cells, for encoders that take no tokens: pixels outside the context block become value",
        BuiltinFlags.NeedsImage,
        Int("patch", AtLeastOne, required: true, note: "the side of a cell in pixels"),
        Int("targets", AtLeastOne, 4),
        Range("target_scale", UnitFromAbove, (0.15, 0.2)),
        Range("context_scale", UnitFromAbove, (0.85, 1.0)),
        Range("aspect", Positive, (0.75, 1.5)),
        Int("min_keep", AtLeastOne, 4),
        Any("value", 0))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.PixelMask(grid => new global::Jepa.Runtime.Masks.MultiBlockMask(grid, targets: {targets}, " +
                     "targetScale: {target_scale}, contextScale: {context_scale}, aspect: {aspect}, minKeep: {min_keep}), patch: {patch}, value: {value})"),
        Python = new("C.PixelMask(lambda grid: C.MultiBlockMask(grid, targets={targets}, target_scale={target_scale}, context_scale={context_scale}, " +
                     "aspect={aspect}, min_keep={min_keep}), patch={patch}, value={value})"),
    };

    public static readonly Builtin PixelRandomMask = new("pixel_random_mask", BuiltinKind.Corruption,
        "random_mask on patch x patch pixel cells, for encoders that take no tokens: a random ratio of the cells becomes value",
        BuiltinFlags.NeedsImage,
        Int("patch", AtLeastOne, required: true, note: "the side of a cell in pixels"),
        Num("ratio", OpenUnit, 0.5),
        Any("value", 0))
    {
        CSharp = new("new global::Jepa.Runtime.Masks.PixelMask(grid => new global::Jepa.Runtime.Masks.RandomTokenMask(grid, ratio: {ratio}), patch: {patch}, value: {value})"),
        Python = new("C.PixelMask(lambda grid: C.RandomTokenMask(grid, ratio={ratio}), patch={patch}, value={value})"),
    };

    /// <summary>The links of a corruption chain.</summary>
    public static IReadOnlyList<Builtin> Corruptions { get; } = new[]
    {
        RandomMask, BlockMask, GaussianNoise, FeatureDropout, RandomResizedCrop, RandomCrop, HorizontalFlip, RandomRotation, RandomAffine, ElasticTransform, ColorJitter, Grayscale, GaussianBlur,
        Solarize, RandomErasing, PixelBlockMask, PixelRandomMask,
    };
}
