using System.Globalization;
using System.Text;
using CsCheck;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Catalog;

namespace Jepa.Reliability.Tests.Fuzzing;

/// <summary>
/// Random <c>.jepa</c> files built from docs/language.md's grammar and parameter tables, mostly valid: every construct
/// and parameter of the language with values in and near their ranges, the three representation modes (vector, tokens,
/// masked tokens), every target kind, statements in any order, comments and any line-break style. Many of them compile
/// without an error, so the generated code of each construct gets compiled; the rest hit shape and range checks.
/// (The grammar-shaped files of Jepa.Dsl.Tests are almost never error-free.) The links applied to the input come from the
/// catalog with arguments from their parameters, so a new corruption is fuzzed without an edit here; a test checks
/// that the files reach every built-in. A case is built from one random seed, which CsCheck prints on failure with the file.
/// </summary>
public static class ValidShapedFiles
{
    public static Gen<string> File { get; } = Gen.Int.Select(seed => new Builder(new Random(seed)).File());

    /// <summary>Names for the input, corruptions and encoders: plain ones, and ones that meet the generated code's own
    /// names once made into C# (locals of the training step, members of the class and its base, keywords, namespaces).</summary>
    private static readonly string[] Names =
    [
        "image", "x", "view", "noisy", "context", "target", "other", "online", "a1", "_", "__x",
        "step", "terms", "predicted", "batch", "generator", "scope", "value", "loss", "predictor", "encoder", "input",
        "settings", "options", "name", "device", "train", "encode", "corrupt", "evaluate", "evaluation_mode", "parameter_digest",
        "context_encoder", "target_encoder", "input_shape", "embedding_width", "flops_per_step", "definition", "dispose",
        "x_mask", "mask", "Mask", "masked_mask", "class", "int", "event", "this", "base", "var", "string", "object", "return",
        "new", "global", "torch", "TorchSharp", "System", "Jepa", "nn", "Tensor", "Module", "ToString", "GetType",
        "x_y", "xY", "XY", "x__y", "Target", "Context", "Predicted", "Image", "Noisy", "_1", "a_1", "A1", "Masks", "Step",
    ];

    /// <summary>Experiment names: plain ones, and ones that meet C# keywords, namespaces and the generated members.</summary>
    private static readonly string[] ExperimentNames =
    [
        "Exp", "Digits", "E", "e", "_", "class", "Jepa", "TorchSharp", "System", "torch", "global", "Options", "Settings",
        "Definition", "Runtime", "Tensor", "Module", "Consumer", "nn",
    ];

    private sealed class Builder(Random random)
    {
        private readonly StringBuilder text = new();
        private string newline = "\n";

        private T Pick<T>(params T[] items) => items[random.Next(items.Length)];

        private bool Chance(double p) => random.NextDouble() < p;

        private static string N(double value) => value.ToString("R", CultureInfo.InvariantCulture);

        /// <summary>A number written in one of the forms the lexer accepts.</summary>
        private string Number(double value)
        {
            if (value != 0 && Math.Abs(value) < 0.01 && Chance(0.5)) return value.ToString("0.###e0", CultureInfo.InvariantCulture).Replace("e-0", "e-", StringComparison.Ordinal);
            if (value == Math.Floor(value) && Chance(0.2)) return N(value) + ".0";
            return N(value);
        }

        private string Int(int low, int high) => random.Next(low, high + 1).ToString(CultureInfo.InvariantCulture);

        private string Fraction(double low, double high) => Number(Math.Round(low + random.NextDouble() * (high - low), 3));

        private string Range(double low, double high)
        {
            var a = Math.Round(low + random.NextDouble() * (high - low), 2);
            var b = Math.Round(a + random.NextDouble() * (high - a), 2);
            return $"{Number(a)}..{Number(b)}";
        }

        /// <summary>Named arguments, each kept with probability <paramref name="p"/>, in random order.</summary>
        private string Call(string name, double p, params (string Name, Func<string> Value)[] arguments)
        {
            var chosen = arguments.Where(_ => Chance(p)).OrderBy(_ => random.Next()).Select(a => $"{a.Name}: {a.Value()}").ToList();
            return chosen.Count == 0 && Chance(0.5) ? name : $"{name}({string.Join(", ", chosen)})";
        }

        /// <summary>Required arguments always, optional ones sometimes.</summary>
        private string CallWith(string name, (string Name, Func<string> Value)[] required, params (string Name, Func<string> Value)[] optional)
        {
            var chosen = required.Concat(optional.Where(_ => Chance(0.5))).OrderBy(_ => random.Next()).Select(a => $"{a.Name}: {a.Value()}");
            return $"{name}({string.Join(", ", chosen)})";
        }

        /// <summary>A call of a built-in with its required parameters and some optional ones, each a valid value; on an
        /// input of other than 3 channels a parameter that needs colour unless 0 is 0 (JEPA215). An output size
        /// (random_resized_crop's) is left out: another size than the input's fits only some encoders (JEPA216).</summary>
        private string Link(Builtin builtin, bool colour) =>
            CallWith(builtin.Name,
                builtin.Parameters.Where(p => p.Required).Select(p => (p.Name, (Func<string>)(() => Value(p)))).ToArray(),
                builtin.Parameters.Where(p => !p.Required && p.Type != ParameterType.Size)
                    .Select(p => (p.Name, (Func<string>)(() => p.NeedsColourUnlessZero && !colour ? "0" : Value(p)))).ToArray());

        /// <summary>A value of a parameter within its bounds (an open end is approached, an absent one is a few units
        /// away from the other).</summary>
        private string Value(Parameter parameter)
        {
            var bounds = parameter.Bounds;
            var low = (bounds?.Min ?? 0) + (bounds is { Min: not null, MinInclusive: false } ? 0.01 : 0);
            var high = bounds?.Max is { } max ? max - (bounds.MaxInclusive ? 0 : 0.01) : low + 2;
            return parameter.Type switch
            {
                ParameterType.Integer => Int((int)Math.Ceiling(low), (int)Math.Ceiling(low) + 3),
                ParameterType.Number or ParameterType.NumberOrSchedule => Fraction(low, high),
                ParameterType.Range => Range(low, high),
                ParameterType.Option => Pick(parameter.Options!.ToArray()),
                ParameterType.Boolean => Pick("true", "false"),
                ParameterType.IntegerList or ParameterType.NumberList =>
                    "[" + string.Join(", ", Enumerable.Range(0, parameter.Length ?? random.Next(1, 3)).Select(_ => parameter.Type == ParameterType.IntegerList ? Int((int)Math.Ceiling(low), (int)Math.Ceiling(low) + 3) : Fraction(low, high))) + "]",
                _ => throw new NotSupportedException($"no value for {parameter.Name}"),
            };
        }

        public string File()
        {
            newline = Pick("\n", "\n", "\r\n", "\r", "\u2028");
            if (Chance(0.3)) Line("// a random experiment file");
            if (Chance(0.3)) Line($"namespace {Pick("Fuzz", "Fuzz.Models", "A.B.C", "Jepa.Models", "System.Fuzz", "TorchSharp.X", "Digits", "Exp", "e.class")};");
            var count = Chance(0.8) ? 1 : 2;
            var first = Chance(0.5) ? Pick(ExperimentNames) : "Exp";
            for (var i = 0; i < count; i++) Experiment(i == 0 ? first : Pick(ExperimentNames.Where(n => n != first).ToArray()));
            return text.ToString();
        }

        private void Line(string line) => text.Append(line).Append(newline);

        private void Experiment(string name)
        {
            // The input: a vector or an image whose sides divide by the patch sizes used below.
            var image = Chance(0.6);
            var (c, h, w) = (random.Next(1, 4), Pick(4, 8, 8, 12, 16), Pick(4, 8, 8, 12, 16));
            var d = Pick(1, 3, 16, 64, 100);
            var input = image ? $"float[{c}, {h}, {w}]" : $"float[{d}]";
            // Distinct names for the input, the corruption and the encoders (plain ones half of the time).
            var names = Chance(0.5) ? ["image", "view", "context", "target", "other", "view_mask"] : Names.OrderBy(_ => random.Next()).Take(6).ToArray();
            var (imageName, viewName, contextName, targetEncoderName, otherName, targetViewName) = (names[0], names[1], names[2], names[3], names[4], names[5]);
            var statements = new List<string> { $"input {imageName}: {input};" };

            // The context encoder decides the representation mode.
            var kind = image ? Pick("mlp", "conv", "vit", "vit-pooled", "custom") : Pick("mlp", "mlp", "custom");
            var tokens = kind == "vit";
            var width = Pick(8, 16, 32);
            var heads = Pick(1, 2, 4);
            var patch = Pick(1, 2, 4);
            string Mlp(bool encoder) => CallWith("mlp",
                encoder ? [("out", () => width.ToString(CultureInfo.InvariantCulture))] : [],
                [("hidden", () => $"[{string.Join(", ", Enumerable.Range(0, random.Next(0, 3)).Select(_ => Int(1, 48)))}]"),
                 ("norm", () => Pick("none", "layer", "batch")), ("act", () => Pick("gelu", "relu", "silu", "tanh")),
                 .. encoder ? Array.Empty<(string, Func<string>)>() : [("out", () => width.ToString(CultureInfo.InvariantCulture))]]);
            var context = kind switch
            {
                "mlp" => Mlp(encoder: true),
                "custom" => CallWith("Fuzz.Encoders.Tiny", [("out", () => width.ToString(CultureInfo.InvariantCulture))],
                    ("scale", () => Fraction(0.5, 2)), ("steps", () => Int(0, 9)), ("batch", () => Int(0, 9)), ("seed", () => Int(0, 9)),
                    ("weight", () => Fraction(0, 1)), ("std", () => Fraction(0, 1)), ("a_b", () => Int(0, 9)), ("aB", () => Int(0, 9)),
                    ("flag", () => Pick("true", "false")), ("hidden", () => $"[{Int(1, 9)}, {Int(1, 9)}]")),
                "conv" => CallWith("conv", [("channels", () => $"[{string.Join(", ", Enumerable.Range(0, random.Next(1, 3)).Select(_ => Int(1, 16)))}]"), ("out", () => width.ToString(CultureInfo.InvariantCulture))],
                    ("kernel", () => Int(1, 3)), ("pool", () => Pick("mean", "max"))),
                _ => CallWith("vit", [("patch", () => patch.ToString(CultureInfo.InvariantCulture)), ("dim", () => (heads * Pick(4, 8)).ToString(CultureInfo.InvariantCulture)),
                    ("depth", () => Int(1, 2)), ("heads", () => heads.ToString(CultureInfo.InvariantCulture))],
                    kind == "vit-pooled" ? [("pool", () => "mean")] : []),
            };
            statements.Add($"encoder {contextName} = {context};");

            // Corruptions: links on the input (any of the catalog's corruptions that is no token mask here and fits the
            // input, with arguments from its parameters), then (with a token encoder, sometimes) a token mask last.
            var masked = tokens && Chance(0.6);
            var inputLinks = Builtins.Corruptions
                .Where(b => !b.Has(BuiltinFlags.TokenMask) && !(tokens && b.Has(BuiltinFlags.TokenMaskOnTokens)) && (image || !b.Has(BuiltinFlags.NeedsImage))
                            && (image && c == 3 || !b.Has(BuiltinFlags.NeedsColour)))
                .ToArray();
            // color_jitter's saturation and hue default to colour: on other channel counts they are written 0.
            string InputLink(Builtin b) => !(image && c == 3) && b.Parameters.Any(p => p.NeedsColourUnlessZero)
                ? CallWith(b.Name, b.Parameters.Where(p => p.NeedsColourUnlessZero).Select(p => (p.Name, (Func<string>)(() => "0"))).ToArray(),
                    b.Parameters.Where(p => !p.NeedsColourUnlessZero).Select(p => (p.Name, (Func<string>)(() => Value(p)))).ToArray())
                : Link(b, image && c == 3);
            var links = new List<string>();
            for (var i = random.Next(masked ? 0 : 1, 3); i > 0; i--)
            {
                links.Add(InputLink(Pick(inputLinks)));
            }

            if (masked)
            {
                links.Add(Chance(0.5)
                    ? Call("block_mask", 0.5, ("targets", () => Int(1, 4)), ("target_scale", () => Range(0.1, 0.3)),
                        ("context_scale", () => Range(0.7, 1)), ("aspect", () => Range(0.75, 1.5)), ("min_keep", () => Int(1, 4)))
                    : $"random_mask(ratio: {Fraction(0.1, 0.9)})");
            }

            var corrupted = links.Count > 0;
            if (corrupted) statements.Add($"corruption {viewName} = {string.Join(" then ", links)};");

            // Sometimes the target side sees a corrupted view too: its own corruption, or the context's (pixel links only).
            var targetView = !masked && Chance(0.3)
                ? corrupted && Chance(0.3) ? viewName : targetViewName
                : null;
            if (targetView == targetViewName) statements.Add($"corruption {targetViewName} = gaussian_noise(std: {Fraction(0, 0.2)});");

            // The target and the objective: a target kind, then what keeps it from collapsing.
            var target = Pick("ema", "ema", "stopgrad", "shared", "independent");
            switch (target)
            {
                case "ema":
                    statements.Add(Chance(0.4)
                        ? $"encoder {targetEncoderName} = ema({contextName});"
                        : $"encoder {targetEncoderName} = ema({contextName}, momentum: {(Chance(0.5) ? Fraction(0.9, 1) : $"{Fraction(0.9, 0.99)} -> 1.0")});");
                    break;
                case "stopgrad":
                    statements.Add($"encoder {targetEncoderName} = stopgrad({contextName});");
                    break;
                case "independent":
                    statements.Add($"encoder {otherName} = {(tokens ? context : kind == "mlp" ? Mlp(encoder: true) : context)};");
                    break;
            }

            var targetName = target switch { "shared" => contextName, "independent" => otherName, _ => targetEncoderName };
            // Sometimes the context side draws several views of its corruption (of the input's size).
            var views = corrupted && !masked && Chance(0.3) ? viewName + "_views" : null;
            if (views is not null) statements.Add($"views {views} = {viewName}{(Chance(0.7) ? " * " + Int(1, 3) : "")};");
            var view = views is not null ? $"{contextName}({views}({imageName}))"
                : corrupted ? $"{contextName}({viewName}({imageName}))" : $"{contextName}({imageName})";
            var targetSide = targetView is null ? $"{targetName}({imageName})" : $"{targetName}({targetView}({imageName}))";
            var objective = new List<string> { $"predict {targetSide} from {view};" };
            var gradientTarget = target is "shared" or "independent";
            var lossNames = tokens ? new[] { "mse", "l1", "cosine", "smooth_l1" } : ["mse", "l1", "cosine", "smooth_l1", "info_nce"];
            var loss = Pick(lossNames);
            var lossCall = loss switch
            {
                "smooth_l1" => Call(loss, 0.5, ("beta", () => Fraction(0.1, 2)), ("target_norm", () => Pick("none", "layer"))),
                "info_nce" => Call(loss, 0.5, ("temperature", () => Fraction(0.05, 1)), ("target_norm", () => Pick("none", "layer"))),
                _ => Call(loss, 0.5, ("target_norm", () => Pick("none", "layer"))),
            };
            objective.Add($"loss {lossCall}{(Chance(0.2) ? " * " + Fraction(0.5, 2) : "")};");
            if (gradientTarget && loss != "info_nce" || Chance(0.3))
            {
                var regularizers = new List<string>
                {
                    Call("vicreg", 0.5, ("variance", () => Fraction(0, 25)), ("covariance", () => Fraction(0, 2))),
                    Call("sigreg", 0.5, ("directions", () => Int(1, 64)), ("weight", () => Fraction(0, 1))),
                };
                if (!tokens && !masked) regularizers.Add(Call("barlow_twins", 0.5, ("lambda", () => Fraction(0.001, 0.01))));
                var chosen = regularizers.OrderBy(_ => random.Next()).Take(random.Next(1, regularizers.Count + 1))
                    .Select(r => r + (Chance(0.2) ? " * " + Fraction(0.5, 2) : ""));
                objective.Add($"regularize {string.Join(", ", chosen)};");
            }

            // The predictor: a transformer for masked tokens, else none, an mlp or nothing (the target's width).
            var predictor = masked
                ? $"predictor = {CallWith("transformer", [("dim", () => (heads * Pick(2, 4)).ToString(CultureInfo.InvariantCulture)), ("depth", () => Int(1, 2)), ("heads", () => heads.ToString(CultureInfo.InvariantCulture))])};"
                : Pick<string?>(null, "predictor = none;", $"predictor = {Mlp(encoder: false)};", $"predictor = {Mlp(encoder: false)};");
            if (predictor is not null) statements.Add(predictor);
            if (!masked && Chance(0.3)) statements.Add($"projector = {Mlp(encoder: true)};");
            statements.Add($"objective {{ {string.Join(" ", objective.OrderBy(_ => random.Next()))} }}");

            // Training.
            var warmupCosine = Chance(0.4);
            var lr = warmupCosine || Chance(0.6) ? Fraction(1e-4, 1e-2) : $"{Fraction(1e-3, 1e-2)} -> {Fraction(1e-5, 1e-3)}";
            var optimizer = Chance(0.7)
                ? CallWith("adamw", [("lr", () => lr)], ("weight_decay", () => Chance(0.5) ? Fraction(0, 0.1) : $"{Fraction(0, 0.1)} -> {Fraction(0.1, 0.4)}"),
                    ("betas", () => $"[{Fraction(0.5, 0.95)}, {Fraction(0.9, 0.9999)}]"))
                : CallWith("sgd", [("lr", () => lr)], ("momentum", () => Fraction(0, 0.99)), ("weight_decay", () => Fraction(0, 0.01)), ("nesterov", () => Pick("true", "false")));
            var train = new List<string> { $"optimizer {optimizer};" };
            if (warmupCosine)
            {
                train.Add($"schedule {CallWith("warmup_cosine", [Chance(0.5) ? ("warmup_steps", () => Int(0, 50)) : ("warmup_epochs", () => Int(0, 3))], ("start_lr", () => Fraction(0, 1e-4)), ("final_lr", () => Fraction(0, 1e-5)))};");
            }
            else if (Chance(0.3))
            {
                train.Add("schedule constant;");
            }

            if (Chance(0.7)) train.Add($"batch {Pick("8", "64", "128", "256")};");
            train.Add(Chance(0.5) ? $"steps {Pick("1", "100", "1e4", "6000")};" : $"epochs {Int(1, 50)};");
            if (Chance(0.5)) train.Add($"seed {Int(0, 1000)};");
            if (Chance(0.3)) train.Add($"device {Pick("cpu", "cuda", "auto")};");
            if (Chance(0.3)) train.Add($"clip {Fraction(0.1, 10)};");
            statements.Add($"train {{ {string.Join(" ", train.OrderBy(_ => random.Next()))} }}");

            if (Chance(0.6))
            {
                var items = new[]
                {
                    Call("linear_probe", 0.5, ("epochs", () => Int(1, 100))),
                    Call("few_shot", 0.5, ("labels_per_class", () => Int(1, 10)), ("draws", () => Int(1, 10))),
                    Call("knn", 0.5, ("k", () => Int(1, 20))),
                    Call("split", 0.5, ("test", () => Fraction(0.1, 0.5))),
                    Call("online", 0.5, ("every", () => Int(1, 500)), ("samples", () => Int(20, 2000))),
                }.Where(_ => Chance(0.6));
                statements.Add($"evaluate {{ {string.Join(" ", items.Select(i => i + ";"))} }}");
            }

            if (Chance(0.5))
            {
                statements.Add($"monitor {{ {Call("collapse", 0.5, ("min_std", () => Fraction(0, 0.05)), ("min_rank", () => Fraction(1, 5)), ("action", () => Pick("warn", "stop")), ("every", () => Int(1, 200)))}; }}");
            }

            Line($"experiment {name} {{");
            foreach (var statement in statements.OrderBy(_ => random.Next()))
            {
                Line("    " + statement + (Chance(0.1) ? " // a comment" : Chance(0.05) ? " /* a block comment */" : ""));
            }

            Line("}");
        }
    }
}
