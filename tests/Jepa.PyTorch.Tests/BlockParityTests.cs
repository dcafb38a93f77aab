using System.Collections;
using System.Globalization;
using Jepa.Runtime.Data;
using Jepa.Runtime.Interop;
using Jepa.Runtime.Masks;
using Jepa.Runtime.Models;
using Jepa.Runtime.Training;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Jepa.PyTorch.Tests;

/// <summary>
/// Parity of the runtime's newer blocks, one by one, between Jepa.Runtime and python/jepa_torch (no example's
/// <c>.jepa</c> uses them yet, so there is no generated experiment to compare a whole step on): the image cores on
/// given parameters (float rounding), the image links on the draws the C# link makes (replayed from a generator with
/// the same seed and passed as tensors), the conv encoder with each norm (the same initial weights under a seed;
/// training and evaluation outputs, gradients, running statistics), the EMA of buffers, the input normalisation's
/// statistics and its application, and the data sources (every value, label, class and the first batch). Each case
/// prints its figure; docs/scale-out.md has them. The Python side is tests/python/tools/block_parity.py.
/// </summary>
[Collection(PyTorchCollection.Name)]
public class BlockParityTests(ITestOutputHelper output)
{
    /// <summary>Pixels in [0, 1] after the same operations in float32: differences of a few float rounding steps.</summary>
    private const double PixelTolerance = 2e-6;
    private const double OutputTolerance = 1e-5;
    private const double GradientTolerance = 1e-4;

    private static Generator Seeded(long seed) => new((ulong)seed, CPU);

    /// <summary>Test images: colour ones quantised to eighths (ties between channels, grey pixels, 0, 1 and 0.5 exactly) and grey ones.</summary>
    private static (Tensor Rgb, Tensor Gray) Images()
    {
        using var g = Seeded(11);
        var rgb = (rand([4, 3, 17, 13], generator: g) * 8).round() / 8;
        var gray = rand([3, 1, 12, 16], generator: g);
        return (rgb, gray);
    }

    private static Tensor Longs(params long[] values) => tensor(values);

    private static Tensor Floats(params float[] values) => tensor(values);

    private static Hashtable Box(long[] top, long[] left, long[] height, long[] width) => new()
    {
        ["top"] = Longs(top), ["left"] = Longs(left), ["height"] = Longs(height), ["width"] = Longs(width),
    };

    private static Hashtable With(Hashtable h, params (string Key, object Value)[] more)
    {
        foreach (var (k, v) in more) h[k] = v;
        return h;
    }

    [SkippableFact]
    public void Image_cores_agree_on_the_same_parameters()
    {
        Python.RequireTorch();
        var (rgb, gray) = Images();
        var cases = new Dictionary<string, (Hashtable Case, Tensor Ours)>();
        void Add(string name, string op, Tensor images, Hashtable parameters, Tensor ours) =>
            cases[name] = (With(parameters, ("op", op), ("images", images)), ours);

        var crop = Box([0, 2, 5, 1], [0, 3, 1, 4], [17, 10, 6, 9], [13, 8, 12, 5]);
        Add("resized_crop rgb to 9x7", "resized_crop", rgb, With(crop, ("out_h", 9), ("out_w", 7)),
            ImageOps.ResizedCrop(rgb, (Tensor)crop["top"]!, (Tensor)crop["left"]!, (Tensor)crop["height"]!, (Tensor)crop["width"]!, (9, 7)));
        var crop2 = Box([0, 2, 5, 1], [0, 3, 1, 4], [17, 10, 6, 9], [13, 8, 12, 5]);
        Add("resized_crop rgb to 20x24", "resized_crop", rgb, With(crop2, ("out_h", 20), ("out_w", 24)),
            ImageOps.ResizedCrop(rgb, (Tensor)crop2["top"]!, (Tensor)crop2["left"]!, (Tensor)crop2["height"]!, (Tensor)crop2["width"]!, (20, 24)));
        var crop3 = Box([0, 3, 1], [0, 2, 9], [12, 5, 11], [16, 9, 7]);
        Add("resized_crop gray to 12x16", "resized_crop", gray, With(crop3, ("out_h", 12), ("out_w", 16)),
            ImageOps.ResizedCrop(gray, (Tensor)crop3["top"]!, (Tensor)crop3["left"]!, (Tensor)crop3["height"]!, (Tensor)crop3["width"]!, (12, 16)));
        foreach (var (image, name, factors) in new[] { (rgb, "rgb", Floats(0.5f, 1.3f, 1f, 0f)), (gray, "gray", Floats(0.7f, 1.6f, 0.2f)) })
        {
            Add($"brightness {name}", "brightness", image, new Hashtable { ["factor"] = factors }, ImageOps.AdjustBrightness(image, factors));
            Add($"contrast {name}", "contrast", image, new Hashtable { ["factor"] = factors }, ImageOps.AdjustContrast(image, factors));
            Add($"solarize {name}", "solarize", image, new Hashtable { ["factor"] = factors * 0.6 }, ImageOps.Solarize(image, factors * 0.6));
        }
        var saturation = Floats(0f, 0.5f, 2f, 1.2f);
        Add("saturation rgb", "saturation", rgb, new Hashtable { ["factor"] = saturation }, ImageOps.AdjustSaturation(rgb, saturation));
        foreach (var shifts in new[] { Floats(-0.3f, 0.1f, 0.5f, -0.5f), Floats(0.25f, 0f, 0.45f, -0.05f) })
            Add($"hue rgb {string.Join(" ", shifts.data<float>().ToArray().Select(s => s.ToString(CultureInfo.InvariantCulture)))}", "hue", rgb,
                new Hashtable { ["factor"] = shifts }, ImageOps.AdjustHue(rgb, shifts));
        Add("grayscale rgb", "grayscale", rgb, new Hashtable(), ImageOps.Grayscale(rgb));
        var angles = Floats(30f, -45f, 90f, 171.5f);
        Add("rotate rgb", "rotate", rgb, new Hashtable { ["angle"] = angles, ["fill"] = 0.25 }, ImageOps.Rotate(rgb, angles, 0.25));
        var grayAngles = Floats(-12.5f, 0f, 180f);
        Add("rotate gray", "rotate", gray, new Hashtable { ["angle"] = grayAngles, ["fill"] = 1.0 }, ImageOps.Rotate(gray, grayAngles, 1));
        var (turn, moveX, moveY, zoom, shearX, shearY) = (Floats(30f, -45f, 0f, 170f), Floats(2f, 0f, -3f, 1f), Floats(-1f, 3f, 0f, 0f),
                                                          Floats(0.8f, 1.25f, 1f, 0.6f), Floats(12f, -20f, 30f, 0f), Floats(0f, 5f, 0f, -15f));
        Add("affine rgb", "affine", rgb, new Hashtable { ["angle"] = turn, ["tx"] = moveX, ["ty"] = moveY, ["scale"] = zoom, ["shear_x"] = shearX, ["shear_y"] = shearY, ["fill"] = 0.25 },
            ImageOps.Affine(rgb, turn, moveX, moveY, zoom, shearX, shearY, 0.25));
        foreach (var (image, name, kernel, sigma) in new[] { (rgb, "rgb", 5, Floats(0.3f, 1f, 2f, 0.8f)), (rgb, "rgb", 25, Floats(4f, 1f, 0.5f, 2.5f)), (gray, "gray", 13, Floats(0.8f, 2f, 1.5f)) })
            Add($"gaussian_blur {name} k {kernel}", "gaussian_blur", image, new Hashtable { ["kernel"] = kernel, ["sigma"] = sigma }, ImageOps.GaussianBlur(image, kernel, sigma));
        var erase = Box([1, 0, 16, 4], [2, 0, 12, 1], [3, 17, 1, 0], [4, 13, 1, 5]);
        Add("erase rgb", "erase", rgb, With(erase, ("value", 0.25)),
            ImageOps.Erase(rgb, (Tensor)erase["top"]!, (Tensor)erase["left"]!, (Tensor)erase["height"]!, (Tensor)erase["width"]!, 0.25));
        var keepRgb = tensor(new long[] { 0, 1, 4, 8, 19, 7, 2, 3, 5, 7, 11, 13, 0, 4, 6, 7, 16, 18, 9, 10, 12, 14, 15, 17 }, [4, 6]);
        Add("mask_cells rgb patch 4", "mask_cells", rgb, new Hashtable { ["keep"] = keepRgb, ["patch"] = 4, ["value"] = 0.0 }, ImageOps.MaskCells(rgb, keepRgb, 4, 0));
        var keepGray = tensor(new long[] { 0, 5, 6, 11, 3, 1, 2, 3, 4, 10, 7, 8, 9, 10, 11 }, [3, 5]);
        Add("mask_cells gray patch 5", "mask_cells", gray, new Hashtable { ["keep"] = keepGray, ["patch"] = 5, ["value"] = 0.5 }, ImageOps.MaskCells(gray, keepGray, 5, 0.5));

        var py = Run("cores", new Hashtable { ["cases"] = ToTable(cases.ToDictionary(c => c.Key, c => (object)c.Value.Case)) });
        var outputs = (Hashtable)py["outputs"]!;
        foreach (var (name, (_, ours)) in cases)
        {
            var theirs = (Tensor)outputs[name]!;
            Assert.Equal(ours.shape, theirs.shape);
            var difference = Interop.MaxDifference(ours, theirs);
            output.WriteLine(Invariant($"{name}: largest difference {difference:E2} over {ours.numel()} values"));
            Assert.True(difference <= PixelTolerance, $"{name}: largest difference {difference:E2}");
        }
    }

    private sealed record LinkCase(Hashtable Arguments, ICorruption Link, Tensor X, Func<Generator, Hashtable> Replay, long Seed);

    private static Hashtable Draws(params (string Key, Tensor Value)[] draws)
    {
        var h = new Hashtable();
        foreach (var (k, v) in draws) h[k] = v;
        return h;
    }

    private static Tensor Uniform(Generator g, params long[] shape) => rand(shape, ScalarType.Float32, generator: g);

    private static IEnumerable<(string Name, LinkCase Case)> LinkCases()
    {
        using var g = Seeded(5);
        var rgb = rand([64, 3, 17, 13], generator: g);
        var gray = rand([64, 1, 12, 10], generator: g);
        var small = rand([16, 1, 6, 7], generator: g);
        Hashtable Crop(double s0, double s1, double r0, double r1) => new() { ["link"] = "random_resized_crop", ["scale_min"] = s0, ["scale_max"] = s1, ["ratio_min"] = r0, ["ratio_max"] = r1 };
        Hashtable BoxDraws(Generator r) => Draws(("u", Uniform(r, 64, 10, 4)));
        yield return ("random_resized_crop rgb (defaults)", new(Crop(0.08, 1, 3.0 / 4, 4.0 / 3), new RandomResizedCrop(), rgb, BoxDraws, 1));
        yield return ("random_resized_crop gray to 8x6", new(With(Crop(0.3, 1, 0.5, 2), ("out_h", 8), ("out_w", 6)),
            new RandomResizedCrop((0.3, 1), (0.5, 2), (8, 6)), gray, BoxDraws, 2));
        yield return ("random_resized_crop gray, no attempt fits", new(Crop(0.9, 1, 2.5, 3), new RandomResizedCrop((0.9, 1), (2.5, 3)), gray, BoxDraws, 3));
        Hashtable Jitter(double b, double c, double s, double h, double p) => new() { ["link"] = "color_jitter", ["brightness"] = b, ["contrast"] = c, ["saturation"] = s, ["hue"] = h, ["p"] = p };
        Hashtable JitterDraws(Generator r) { var u = Uniform(r, 64, 5); return Draws(("u", u), ("order", Uniform(r, 4))); }
        yield return ("color_jitter rgb", new(Jitter(0.4, 0.4, 0.3, 0.1, 0.8), new ColorJitter(0.4, 0.4, 0.3, 0.1, 0.8), rgb, JitterDraws, 4));
        yield return ("color_jitter rgb, another order", new(Jitter(0.8, 0.2, 0.6, 0.5, 1), new ColorJitter(0.8, 0.2, 0.6, 0.5, 1), rgb, JitterDraws, 14));
        yield return ("color_jitter gray (brightness, contrast)", new(Jitter(0.5, 0.5, 0, 0, 1), new ColorJitter(0.5, 0.5, 0, 0, 1), gray, JitterDraws, 5));
        Hashtable PerSample(Generator r) => Draws(("u", Uniform(r, 64)));
        yield return ("grayscale rgb", new(new Hashtable { ["link"] = "grayscale", ["p"] = 0.5 }, new Grayscale(0.5), rgb, PerSample, 6));
        Hashtable Blur(double s0, double s1, double p) => new() { ["link"] = "gaussian_blur", ["sigma_min"] = s0, ["sigma_max"] = s1, ["p"] = p };
        yield return ("gaussian_blur rgb", new(Blur(0.1, 2, 0.5), new GaussianBlur((0.1, 2), 0.5), rgb, r => Draws(("u", Uniform(r, 64, 2))), 7));
        yield return ("gaussian_blur, kernel clipped to the image", new(Blur(1, 3, 1), new GaussianBlur((1, 3), 1), small, r => Draws(("u", Uniform(r, 16, 2))), 8));
        yield return ("random_rotation rgb", new(new Hashtable { ["link"] = "random_rotation", ["degrees"] = 40.0, ["fill"] = 0.5 }, new RandomRotation(40, 0.5), rgb, PerSample, 15));
        yield return ("random_affine rgb", new(new Hashtable { ["link"] = "random_affine", ["degrees"] = 20.0, ["translate"] = 0.1, ["scale_min"] = 0.8, ["scale_max"] = 1.2, ["shear"] = 15.0, ["fill"] = 0.5 },
            new RandomAffine(20, 0.1, (0.8, 1.2), 15, 0.5), rgb, r => Draws(("u", Uniform(r, 64, 5))), 16));
        yield return ("elastic_transform gray", new(new Hashtable { ["link"] = "elastic_transform", ["alpha"] = 20.0, ["sigma"] = 1.0, ["fill"] = 0.5 },
            new ElasticTransform(20, 1, 0.5), gray, r => Draws(("u", Uniform(r, 64, 2, 12, 10))), 17));
        yield return ("solarize gray", new(new Hashtable { ["link"] = "solarize", ["threshold"] = 0.4, ["p"] = 0.5 }, new Solarize(0.4, 0.5), gray, PerSample, 9));
        Hashtable Erasing(double s0, double s1, double r0, double r1, double value, double p) =>
            new() { ["link"] = "random_erasing", ["scale_min"] = s0, ["scale_max"] = s1, ["ratio_min"] = r0, ["ratio_max"] = r1, ["value"] = value, ["p"] = p };
        Hashtable ErasingDraws(Generator r) { var chosen = Uniform(r, 64); return Draws(("chosen", chosen), ("u", Uniform(r, 64, 10, 4))); }
        yield return ("random_erasing rgb (defaults)", new(Erasing(0.02, 0.33, 0.3, 3.3, 0, 0.5), new RandomErasing(), rgb, ErasingDraws, 10));
        yield return ("random_erasing gray, some never fit", new(Erasing(0.5, 0.9, 0.3, 3.3, 0.5, 1), new RandomErasing((0.5, 0.9), (0.3, 3.3), 0.5, 1), gray, ErasingDraws, 11));
        var block = new MultiBlockMask((4, 4));
        yield return ("pixel mask, block_mask on 3x3 cells", new(new Hashtable { ["link"] = "pixel_mask", ["mask"] = "block", ["grid_h"] = 4, ["grid_w"] = 4, ["patch"] = 3, ["value"] = 0.0 },
            new PixelMask(block, 3), gray, r => Draws(("context", block.Sample(64, r).Context)), 12));
        var random = new RandomTokenMask((4, 3), 0.4);
        yield return ("pixel mask, random_mask on 5x5 cells (the last ones smaller)", new(new Hashtable { ["link"] = "pixel_mask", ["mask"] = "random", ["grid_h"] = 4, ["grid_w"] = 3, ["ratio"] = 0.4, ["patch"] = 5, ["value"] = 0.5 },
            new PixelMask(random, 5, 0.5), rgb, r => Draws(("context", random.Sample(64, r).Context)), 13));
    }

    [SkippableFact]
    public void Image_links_agree_on_the_draws_of_the_CSharp_link()
    {
        Python.RequireTorch();
        var cases = LinkCases().ToList();
        var ours = new Dictionary<string, Tensor>();
        var sent = new Hashtable();
        foreach (var (name, c) in cases)
        {
            using (var g = Seeded(c.Seed)) ours[name] = c.Link.Apply(c.X, g);
            using (var replay = Seeded(c.Seed)) sent[name] = With(c.Arguments, ("x", c.X), ("draws", c.Replay(replay)));
        }
        var outputs = (Hashtable)Run("links", new Hashtable { ["cases"] = sent })["outputs"]!;
        foreach (var (name, _) in cases)
        {
            var theirs = (Tensor)outputs[name]!;
            Assert.Equal(ours[name].shape, theirs.shape);
            var difference = Interop.MaxDifference(ours[name], theirs);
            output.WriteLine(Invariant($"{name}: largest difference {difference:E2} over {theirs.numel()} values"));
            Assert.True(difference <= PixelTolerance, $"{name}: largest difference {difference:E2}");
        }
    }

    /// <summary><c>hflip</c>: Jepa.Runtime.Masks.HorizontalFlip against jepa_torch's on the replayed draws.</summary>
    [SkippableFact]
    public void Horizontal_flip_agrees_on_the_draws_of_the_CSharp_link()
    {
        Python.RequireTorch();
        var flip = new HorizontalFlip(0.5);
        using var g = Seeded(3);
        var x = rand([32, 3, 5, 7], generator: g);
        Tensor ours;
        using (var seeded = Seeded(21)) ours = flip.Apply(x, seeded);
        Hashtable draws;
        using (var replay = Seeded(21)) draws = Draws(("u", Uniform(replay, 32)));
        var theirs = (Tensor)((Hashtable)Run("links", new Hashtable { ["cases"] = new Hashtable { ["hflip"] = new Hashtable { ["link"] = "hflip", ["p"] = 0.5, ["x"] = x, ["draws"] = draws } } })["outputs"]!)["hflip"]!;
        Assert.Equal(0.0, Interop.MaxDifference(ours, theirs));
    }

    public static TheoryData<string, string, int> ConvCases => new()
    {
        { "none", "mean", 8 },
        { "batch", "mean", 8 },
        { "group", "max", 2 },
        { "layer", "mean", 8 },
    };

    [SkippableTheory]
    [MemberData(nameof(ConvCases))]
    public void Conv_encoder_with_each_norm_agrees(string norm, string pool, int groups)
    {
        Python.RequireTorch();
        const long seed = 17;
        var normKind = Enum.Parse<Norm>(norm, ignoreCase: true);
        ConvEncoder model;
        torch.random.manual_seed(seed);
        model = new ConvEncoder([3, 12, 12], [4, 8], 3, pool == "max" ? Pool.Max : Pool.Mean, 5, normKind, groups);
        using var _ = model;
        var pristine = Interop.State(model);
        using var g = Seeded(seed + 1);
        using (no_grad())
        {
            // Affine weights and running statistics away from 1 and 0, so that they matter.
            foreach (var (name, t) in model.state_dict())
            {
                if (name.Contains("norm") && name.EndsWith("weight", StringComparison.Ordinal)) t.copy_(1 + 0.3 * randn(t.shape, generator: g));
                else if (name.Contains("norm") && (name.EndsWith("bias", StringComparison.Ordinal) || name.EndsWith("running_mean", StringComparison.Ordinal))) t.copy_(0.2 * randn(t.shape, generator: g));
                else if (name.EndsWith("running_var", StringComparison.Ordinal)) t.copy_(1 + rand(t.shape, generator: g));
            }
        }
        var state = Interop.State(model);
        var x = rand([6, 3, 12, 12], generator: g) * 2 - 0.5;
        var small = rand([6, 3, 8, 8], generator: g);
        var w = randn([6, 5], generator: g);
        var wSmall = randn([6, 5], generator: g);

        model.train();
        var y = model.forward(x);
        var ySmall = model.forward(small);
        ((y * w).sum() + (ySmall * wSmall).sum()).backward();
        var buffers = model.state_dict().Where(p => p.Key.Contains("running") || p.Key.Contains("num_batches")).ToDictionary(p => p.Key, p => p.Value.clone());
        var grads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        model.eval();
        Tensor yEval;
        using (no_grad()) yEval = model.forward(x);

        var py = (Hashtable)Run("conv", new Hashtable
        {
            ["cases"] = new Hashtable
            {
                ["case"] = new Hashtable
                {
                    ["input_shape"] = Longs(3, 12, 12), ["channels"] = Longs(4, 8), ["kernel"] = 3, ["pool"] = pool, ["out"] = 5, ["norm"] = norm, ["groups"] = groups,
                    ["seed"] = seed, ["pristine"] = pristine, ["state"] = state, ["x"] = x, ["small"] = small, ["w"] = w, ["w_small"] = wSmall,
                },
            },
        })["case"]!;
        var init = (double)py["init_difference"]!;
        double Relative(Tensor a, Tensor b) => Interop.MaxDifference(a, b) / Interop.MaxAbs([a]);
        var train = Relative(y, (Tensor)py["train"]!);
        var smaller = Relative(ySmall, (Tensor)py["small"]!);
        var eval = Relative(yEval, (Tensor)py["eval"]!);
        var pyGrads = (Hashtable)py["grads"]!;
        var gradient = grads.Max(p => Interop.MaxDifference(p.Value, (Tensor)pyGrads[p.Key]!)) / Interop.MaxAbs(grads.Values);
        var pyBuffers = (Hashtable)py["buffers"]!;
        var buffer = buffers.Count == 0 ? 0 : buffers.Max(p => Relative(p.Value.to(ScalarType.Float64), ((Tensor)pyBuffers[p.Key]!).to(ScalarType.Float64)));
        output.WriteLine(Invariant($"conv(norm: {norm}, pool: {pool}): initial weights under the same seed {init:E2}; outputs: training {train:E2}, smaller crops {smaller:E2}, evaluation {eval:E2} (relative); gradients {gradient:E2} of the largest; buffers {buffer:E2}"));
        Assert.Equal(buffers.Keys.Order(StringComparer.Ordinal), pyBuffers.Keys.Cast<string>().Order(StringComparer.Ordinal));
        Assert.True(init == 0, $"the same seed built initial weights that differ by {init:E2}");
        Assert.True(train <= OutputTolerance && smaller <= OutputTolerance && eval <= OutputTolerance, $"outputs differ: {train:E2}, {smaller:E2}, {eval:E2}");
        Assert.True(gradient <= GradientTolerance, $"gradients differ by {gradient:E2}");
        Assert.True(buffer <= OutputTolerance, $"running statistics differ by {buffer:E2}");
    }

    [SkippableFact]
    public void Ema_update_moves_parameters_and_buffers_alike()
    {
        Python.RequireTorch();
        static ConvEncoder Make() => new([3, 8, 8], [4, 8], 3, Pool.Mean, 5, Norm.Batch);
        using var online = Make();
        using var target = Ema.CopyOf(online, Make);
        using var g = Seeded(2);
        online.train();
        using (no_grad())
        {
            online.forward(rand([8, 3, 8, 8], generator: g));
            online.forward(rand([8, 3, 8, 8], generator: g) * 3);                    // running statistics move twice
            foreach (var p in online.parameters()) p.add_(0.1 * randn(p.shape, generator: g));
        }
        var onlineState = Interop.State(online);
        var before = Interop.State(target);
        Ema.Update(target, online, 0.9);
        var py = (Hashtable)Run("ema", new Hashtable { ["online"] = onlineState, ["target"] = before, ["momentum"] = 0.9 })["target"]!;
        var worst = target.state_dict().Max(p => Interop.MaxDifference(p.Value.to(ScalarType.Float64), ((Tensor)py[p.Key]!).to(ScalarType.Float64)) / Math.Max(1e-30, Interop.MaxAbs([p.Value.to(ScalarType.Float64)])));
        output.WriteLine(Invariant($"EMA of a conv with batch norm (momentum 0.9): parameters and buffers after the update differ by {worst:E2} (relative, worst tensor)"));
        Assert.Equal(Convert.ToInt64(((Tensor)py["stages.norm0.num_batches_tracked"]!).item<long>()), target.state_dict()["stages.norm0.num_batches_tracked"].item<long>());
        Assert.True(worst <= 1e-6, $"the EMA targets differ by {worst:E2}");
    }

    private sealed record PlainOptions : ExperimentOptions;

    /// <summary>The smallest experiment that has <see cref="JepaExperiment.Normalize"/> (no modules, no step).</summary>
    private sealed class Normalizing(InputNormalization normalization) : JepaExperiment("Normalizing", new PlainOptions { Normalization = normalization })
    {
        public override Tensor Corrupt(Tensor image, Generator generator) => image;

        public override Tensor Encode(Tensor image) => image;

        protected override LossTerms TrainingStep(Tensor batch, StepContext step) => throw new NotSupportedException();
    }

    [SkippableFact]
    public void Input_normalisation_statistics_and_application_agree()
    {
        Python.RequireTorch();
        using var g = Seeded(4);
        using var digits = Datasets.Digits();
        var capped = cat([rand([50_300, 1, 1, 1], generator: g) * 7 + 3, zeros([50_300, 1, 1, 1])], 1);
        var sets = new Dictionary<string, (Tensor X, long Seed)>
        {
            ["digits, vectors: one channel (1,797 samples, 8 batches)"] = (digits.Features, 1),
            ["3 channels of 5x4 (700 samples, a partial last batch)"] = ((rand([700, 3, 5, 4], generator: g) * tensor(new float[] { 1, 2, 5 }).view(1, 3, 1, 1)), 2),
            ["two channels, 50,300 samples: 50,000 drawn, the second constant"] = (capped, 3),
        };
        var cases = new Hashtable();
        var ours = new Dictionary<string, InputNormalization>();
        foreach (var (name, (x, seed)) in sets)
        {
            using var data = new JepaDataset(x);
            ours[name] = InputNormalization.Compute(data, seed);
            cases[name] = new Hashtable { ["x"] = x, ["seed"] = seed };
        }
        using (var mnist = DataSources.Open([RepositoryRoot.Combine("data", "mnist10k")], new DataOptions { InputShape = [1, 28, 28] }))
            ours["MNIST-10k, streamed bytes (7,996 samples)"] = InputNormalization.Compute(mnist.Train, 5);
        cases["MNIST-10k, streamed bytes (7,996 samples)"] = new Hashtable { ["mnist10k"] = 5L };

        var stats = ours["3 channels of 5x4 (700 samples, a partial last batch)"];
        var applyX = rand([6, 3, 5, 4], generator: g);
        Tensor applied;
        using (var experiment = new Normalizing(stats)) applied = experiment.Normalize(applyX);
        var py = Run("normalization", new Hashtable
        {
            ["cases"] = cases,
            ["apply"] = new Hashtable { ["x"] = applyX, ["mean"] = tensor(stats.Mean.ToArray()), ["std"] = tensor(stats.Std.ToArray()) },
        });
        foreach (var (name, n) in ours)
        {
            var theirs = (Hashtable)py[name]!;
            var mean = ((Tensor)theirs["mean"]!).data<double>().ToArray();
            var std = ((Tensor)theirs["std"]!).data<double>().ToArray();
            var meanDifference = n.Mean.Zip(mean).Max(p => Math.Abs(p.First - p.Second) / Math.Max(Math.Abs(p.First), 1e-12));
            var stdDifference = n.Std.Zip(std).Max(p => Math.Abs(p.First - p.Second) / p.First);
            output.WriteLine(Invariant($"{name}: mean [{string.Join(", ", n.Mean.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))}], relative differences: mean {meanDifference:E2}, std {stdDifference:E2}; samples {n.Samples} and {theirs["samples"]}"));
            Assert.Equal(n.Samples, Convert.ToInt64(theirs["samples"], CultureInfo.InvariantCulture));
            Assert.True(meanDifference <= 1e-6 && stdDifference <= 1e-6, $"{name}: the statistics differ by {meanDifference:E2} and {stdDifference:E2}");
        }
        var difference = Interop.MaxDifference(applied, (Tensor)py["applied"]!);
        output.WriteLine(Invariant($"Normalize on (6, 3, 5, 4): largest difference {difference:E2}"));
        Assert.Equal(0.0, difference);
    }

    [SkippableFact]
    public void Data_sources_read_the_same_samples_labels_and_splits()
    {
        Python.RequireTorch();
        using var folder = new TempFolder();
        var mnist = RepositoryRoot.Combine("data", "mnist10k");
        string[] mnistFiles = [.. new[] { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" }.Select(f => Path.Combine(mnist, f))];
        var cases = new (string Name, string[] Paths, long[] Shape)[]
        {
            ("MNIST-10k folder: the t10k pair is the test split", [mnist], [1, 28, 28]),
            ("MNIST-10k, the four IDX files, flat input", mnistFiles, [784]),
            ("MNIST-10k, images only (unlabelled)", [mnistFiles[0]], [1, 28, 28]),
            (".npy uint8 [h, w, c] and int32 labels", ["hwc_labels.npy", "hwc.npy"], [3, 5, 6]),
            (".npy float64", ["floats.npy"], [6]),
            (".npz with train_images and test_images", ["set.npz"], [1, 4, 4]),
            ("image folder, train/ and test/ classes, grey", ["images"], [1, 10, 10]),
            ("image folder, train/ and test/ classes, RGB", ["images"], [3, 12, 8]),
            ("image folder, flat (unlabelled)", ["flat"], [3, 6, 6]),
        };
        var sent = new Hashtable();
        foreach (var (name, paths, shape) in cases) sent[name] = new Hashtable { ["paths"] = string.Join('\n', paths), ["shape"] = tensor(shape) };
        var py = Run("data", new Hashtable { ["root"] = folder.Path, ["cases"] = sent });
        foreach (var (name, paths, shape) in cases)
        {
            var theirs = (Hashtable)py[name]!;
            using var loaded = DataSources.Open([.. paths.Select(p => Path.IsPathRooted(p) ? p : Path.Combine(folder.Path, p))], new DataOptions { InputShape = shape, Workers = 1 });
            using var train = loaded.Train.ToDataset();
            var trainDifference = Interop.MaxDifference(train.Features, (Tensor)theirs["train"]!);
            Assert.Equal(train.Features.shape, ((Tensor)theirs["train"]!).shape);
            AssertLabels(train.Labels, theirs["train_labels"] as Tensor, name);
            Assert.Equal(string.Join('\n', loaded.Train.ClassNames), (string)theirs["classes"]!);
            Assert.Equal(loaded.Layout, (string)theirs["layout"]!);
            var testDifference = 0.0;
            Assert.Equal(loaded.Test is null, !theirs.ContainsKey("test"));
            if (loaded.Test is not null)
            {
                using var test = loaded.Test.ToDataset();
                Assert.Equal(test.Features.shape, ((Tensor)theirs["test"]!).shape);
                testDifference = Interop.MaxDifference(test.Features, (Tensor)theirs["test"]!);
                AssertLabels(test.Labels, theirs["test_labels"] as Tensor, name);
            }
            var count = (int)Math.Min(64, loaded.Train.Count);
            using var first = loaded.Train.Batches(count, 3, 0).First();
            var batchDifference = Interop.MaxDifference(first, (Tensor)theirs["first_batch"]!);
            output.WriteLine(Invariant($"{name}: {loaded.Layout}; train {train.Count} x {JepaDataset.Format(shape)}, test {loaded.Test?.Count ?? 0}; largest differences: train {trainDifference:E2}, test {testDifference:E2}, first batch of epoch 0 {batchDifference:E2}; labels and classes equal"));
            Assert.True(trainDifference == 0 && testDifference == 0 && batchDifference == 0, $"{name}: the samples differ ({trainDifference:E2}, {testDifference:E2}, {batchDifference:E2})");
        }
    }

    private static void AssertLabels(Tensor? ours, Tensor? theirs, string name)
    {
        Assert.True((ours is null) == (theirs is null), $"{name}: labels on one side only");
        if (ours is not null) Assert.Equal(ours.data<long>().ToArray(), theirs!.data<long>().ToArray());
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static Hashtable ToTable(Dictionary<string, object> d)
    {
        var h = new Hashtable();
        foreach (var (k, v) in d) h[k] = v;
        return h;
    }

    /// <summary>Writes <paramref name="inputs"/> for block_parity.py KIND, runs it and reads what it wrote.</summary>
    private static Hashtable Run(string kind, Hashtable inputs)
    {
        using var folder = new TempFolder();
        inputs["format"] = PyTorchCheckpoint.Format;
        inputs["version"] = PyTorchCheckpoint.Version;
        PyTorchCheckpoint.Write(folder.File("inputs.pt"), inputs);
        var (code, text) = Python.Run(["tests/python/tools/block_parity.py", kind, folder.File("inputs.pt"), folder.File("output.pt")], TimeSpan.FromMinutes(5));
        Assert.True(code == 0, $"block_parity.py {kind} failed ({code}):\n{text}");
        using var stream = File.OpenRead(folder.File("output.pt"));
        return PyTorchUnpickler.UnpickleStateDict(stream);
    }
}
