using CsCheck;
using Jepa.Dsl.Catalog;

namespace Jepa.Dsl.Tests.Properties;

/// <summary>CsCheck generators of grammar-shaped <c>.jepa</c> files and of mutations of the example files. Their names
/// of functions, parameters and option values come from the catalog, so a new built-in is fuzzed without an edit here.</summary>
public static class JepaGenerators
{
    private static readonly string[] Names = { "image", "x", "context", "target", "net", "noisy", "masked", "a", "b", "enc", "E", "My.Enc.Tiny" };

    /// <summary>Every built-in of the catalog, and a few names that are none (a typo, a C# type).</summary>
    private static readonly string[] Functions =
        Builtins.All.Select(b => b.Name).Distinct().Concat(["mpl", "My.Encoders.Tiny"]).ToArray();

    /// <summary>Every parameter of the catalog, and a typo.</summary>
    private static readonly string[] Parameters =
        Builtins.All.SelectMany(b => b.Parameters.Select(p => p.Name)).Concat(Builtins.TrainSettings.Keys).Distinct().Append("sdt").ToArray();

    /// <summary>Every option value of the catalog, and the booleans.</summary>
    private static readonly string[] Words =
        Builtins.All.SelectMany(b => b.Parameters).Concat(Builtins.TrainSettings.Values).SelectMany(p => p.Options ?? []).Distinct().Concat(["true", "false"]).ToArray();

    private static readonly string[] Numbers =
    {
        "0", "1", "2", "3", "4", "8", "16", "32", "64", "128", "256", "-1", "0.5", "0.1", "0.996", "1.0", "1e-3", "2.5e2", "1e999",
        "3000000000", "-0.0",
    };

    private static Gen<string> Pick(string[] items) => Gen.OneOf(items.Select(Gen.Const).ToArray<IGen<string>>());

    private static readonly Gen<string> Number = Pick(Numbers);

    /// <summary>A value: number, range, schedule, list, name or call (depth-limited).</summary>
    public static readonly Gen<string> Value = Gen.Recursive<string>((depth, value) =>
    {
        var leaves = Gen.Frequency(
            (4, Number),
            (1, Gen.Select(Number, Number, (a, b) => $"{a}..{b}")),
            (1, Gen.Select(Number, Number, (a, b) => $"{a} -> {b}")),
            (2, Pick(Names)),
            (2, Pick(Words)),
            (2, Pick(Functions)));
        if (depth > 3)
        {
            return leaves;
        }

        var argument = Gen.Frequency(
            (4, Gen.Select(Pick(Parameters), value, (n, v) => $"{n}: {v}")),
            (1, value));
        return Gen.Frequency(
            (5, leaves),
            (1, value.Array[0, 3].Select(items => "[" + string.Join(", ", items) + "]")),
            (3, Gen.Select(Pick(Functions).Concat(Pick(Names)), argument.Array[0, 4], (f, args) => $"{f}({string.Join(", ", args)})")));
    });

    private static Gen<string> Concat(this Gen<string> a, Gen<string> b) => Gen.Frequency((3, a), (1, b));

    private static readonly Gen<string> Term = Gen.Select(Value, Gen.Frequency((3, Gen.Const("")), (1, Number.Select(n => " * " + n))), (v, w) => v + w);

    private static readonly Gen<string> Application = Gen.Frequency(
        (3, Gen.Select(Pick(Names), Pick(Names), Pick(Names), (e, c, i) => $"{e}({c}({i}))")),
        (3, Gen.Select(Pick(Names), Pick(Names), (e, i) => $"{e}({i})")),
        (1, Value));

    private static readonly Gen<string> Dimensions = Number.Array[0, 4].Select(d => "[" + string.Join(", ", d) + "]");

    private static readonly Gen<string> ObjectiveStatement = Gen.Frequency(
        (3, Gen.Select(Application, Application, (t, c) => $"predict {t} from {c};")),
        (3, Term.Select(t => $"loss {t};")),
        (2, Term.Array[1, 3].Select(ts => "regularize " + string.Join(", ", ts) + ";")));

    private static readonly Gen<string> TrainStatement = Gen.Select(
        Pick(new[] { "optimizer", "schedule", "batch", "epochs", "steps", "seed", "device", "clip", "bach" }), Value, (k, v) => $"{k} {v};");

    private static Gen<string> Block(string keyword, Gen<string> statement) =>
        statement.Array[0, 4].Select(s => $"{keyword} {{ {string.Join(" ", s)} }}");

    private static readonly Gen<string> Statement = Gen.Frequency(
        (3, Gen.Select(Pick(Names), Pick(new[] { "float", "int" }), Dimensions, (n, t, d) => $"input {n}: {t}{d};")),
        (3, Gen.Select(Pick(Names), Value.Array[1, 3], (n, links) => $"corruption {n} = {string.Join(" then ", links)};")),
        (4, Gen.Select(Pick(Names), Value, (n, v) => $"encoder {n} = {v};")),
        (2, Value.Select(v => $"predictor = {v};")),
        (3, Block("objective", ObjectiveStatement)),
        (3, Block("train", TrainStatement)),
        (1, Block("evaluate", Value.Select(v => v + ";"))),
        (1, Block("monitor", Value.Select(v => v + ";"))),
        (1, Pick(new[] { "encodr x = mlp(out: 1);", ";", "}", "{", "experiment", "/* c */", "// c\n", "#" })));

    private static readonly Gen<string> Experiment = Gen.Select(
        Pick(new[] { "E", "F", "Digits", "E" }), Statement.Array[0, 10],
        (name, statements) => $"experiment {name} {{\n    {string.Join("\n    ", statements)}\n}}\n");

    /// <summary>A grammar-shaped file: an optional namespace and one to three experiments.</summary>
    public static readonly Gen<string> File = Gen.Select(
        Gen.Frequency((3, Gen.Const("")), (1, Gen.Const("namespace A.B;\n")), (1, Gen.Const("namespace ;\n"))),
        Experiment.Array[0, 3],
        (ns, experiments) => ns + string.Join("\n", experiments));

    private static readonly string[] Snippets =
    {
        ";", "}", "{", "(", ")", "[", "]", "..", "->", "/*", "*/", "//", "\n", "\r\n", "\r", "\u2028", "-", "1e999", " ", ":", ",",
        "experiment", "encoder", "then", "é", "\t", "*", "=", "0", "ema(context)", "\uFEFF", "\0",
    };

    /// <summary>One edit of a text: delete a range, insert a snippet, replace a character, duplicate or drop a line.</summary>
    private static Gen<Func<string, string>> Mutation =>
        Gen.Select(Gen.Int[0, 4], Gen.Int[0, int.MaxValue], Gen.Int[1, 12], Pick(Snippets),
            (kind, at, length, snippet) => new Func<string, string>(text =>
            {
                if (text.Length == 0)
                {
                    return snippet;
                }

                var position = at % (text.Length + 1);
                switch (kind)
                {
                    case 0:
                        return text.Remove(Math.Min(position, text.Length - 1), Math.Min(length, text.Length - Math.Min(position, text.Length - 1)));
                    case 1:
                        return text.Insert(position, snippet);
                    case 2:
                        return position < text.Length ? text.Remove(position, 1).Insert(position, snippet[..1]) : text + snippet;
                    default:
                        var lines = text.Split('\n').ToList();
                        var line = at % lines.Count;
                        if (kind == 3)
                        {
                            lines.Insert(line, lines[line]);
                        }
                        else
                        {
                            lines.RemoveAt(line);
                        }

                        return string.Join("\n", lines);
                }
            }));

    /// <summary>An example file with one to five random edits.</summary>
    public static Gen<string> MutatedExample(IReadOnlyList<string> examples) =>
        Gen.Select(Gen.Int[0, examples.Count - 1], Mutation.Array[1, 5],
            (index, mutations) => mutations.Aggregate(examples[index], (text, mutate) => mutate(text)));
}
