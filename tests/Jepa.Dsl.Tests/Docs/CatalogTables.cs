using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Catalog;

namespace Jepa.Dsl.Tests.Docs;

/// <summary>
/// The tables of docs/language.md that list built-ins, generated from the catalog: each sits between
/// <c>&lt;!-- catalog: KIND ... --&gt;</c> and <c>&lt;!-- /catalog --&gt;</c> and must equal what <see cref="Render"/>
/// makes of those kinds (one row per parameter; a built-in's name and doc on its first row). A test compares them;
/// <c>JEPA_ACCEPT_SNAPSHOTS=1</c> rewrites the doc instead.
/// </summary>
public static class CatalogTables
{
    private static readonly Regex Marker = new(@"<!-- catalog: (?<kinds>[a-z ]+) -->\n(?<table>.*?)<!-- /catalog -->\n", RegexOptions.Singleline);

    /// <summary>The doc with every marked table rendered from the catalog.</summary>
    public static string Regenerate(string doc) =>
        Marker.Replace(doc, m => $"<!-- catalog: {m.Groups["kinds"].Value} -->\n{Render(Kinds(m.Groups["kinds"].Value))}<!-- /catalog -->\n");

    /// <summary>The kinds each marked table lists, in the doc's order.</summary>
    public static IReadOnlyList<string> Markers(string doc) => Marker.Matches(doc).Select(m => m.Groups["kinds"].Value).ToList();

    private static BuiltinKind[] Kinds(string text) =>
        text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(k => Enum.Parse<BuiltinKind>(k, ignoreCase: true)).ToArray();

    public static string Render(IReadOnlyList<BuiltinKind> kinds)
    {
        var header = kinds.Count > 1 ? "function" : kinds[0] switch
        {
            BuiltinKind.Corruption => "link",
            BuiltinKind.Evaluation or BuiltinKind.Monitor => "item",
            var kind => Builtins.Describe(kind),
        };
        var text = new StringBuilder();
        if (kinds.All(k => Builtins.OfKind(k).All(b => b.Parameters.Count == 0)))
        {
            text.Append($"| {header} | what it is |\n| --- | --- |\n");
            foreach (var builtin in kinds.SelectMany(Builtins.OfKind)) text.Append($"| `{builtin.Name}` | {builtin.Doc} |\n");
            return text.ToString();
        }

        text.Append($"| {header} | parameter | type and range | default | what it does |\n| --- | --- | --- | --- | --- |\n");
        foreach (var builtin in kinds.SelectMany(Builtins.OfKind))
        {
            var name = !builtin.Has(BuiltinFlags.TakesEncoder) ? $"`{builtin.Name}`"
                : builtin.Parameters.Count == 0 ? $"`{builtin.Name}(ENCODER)`"
                : $"`{builtin.Name}(ENCODER, ...)`";
            if (builtin.Parameters.Count == 0)
            {
                text.Append($"| {name} | | | | {builtin.Doc} |\n");
                continue;
            }

            for (var i = 0; i < builtin.Parameters.Count; i++)
            {
                var parameter = builtin.Parameters[i];
                text.Append(i == 0
                    ? $"| {name} | `{parameter.Name}` | {Type(parameter)} | {Default(parameter)} | {builtin.Doc} |\n"
                    : $"| | `{parameter.Name}` | {Type(parameter)} | {Default(parameter)} | |\n");
            }
        }

        return text.ToString();
    }

    /// <summary>"number in (0, 1)", "range, both ends > 0", "`none`, `layer`".</summary>
    public static string Type(Parameter parameter)
    {
        var bounds = parameter.Bounds is null ? string.Empty : " " + parameter.Bounds.Describe();
        return parameter.Type switch
        {
            ParameterType.Integer => "integer" + bounds,
            ParameterType.Number => "number" + bounds,
            ParameterType.IntegerList => (parameter.NonEmpty ? "non-empty list" : "list") + " of integers" + bounds,
            ParameterType.NumberList => (parameter.Length is { } n ? $"list of {n} numbers" : "list of numbers") + bounds,
            ParameterType.Range => "range" + (bounds.Length == 0 ? string.Empty : ", both ends" + bounds),
            ParameterType.NumberOrSchedule => "number or schedule" + (bounds.Length == 0 ? string.Empty : ", each" + bounds),
            ParameterType.Option => string.Join(", ", parameter.Options!.Select(o => $"`{o}`")),
            ParameterType.Boolean => "boolean",
            _ => "any",
        };
    }

    /// <summary>"required", "0.5", "`none`", or what the parameter's note says.</summary>
    public static string Default(Parameter parameter) => parameter switch
    {
        { Required: true } => "required",
        { DefaultNote: { } note } => note,
        { Default: NumberValue n } => Number(n.Value),
        { Default: RangeValue r } => $"{Number(r.Low)}..{Number(r.High)}",
        { Default: ScheduleValue s } => $"`{Number(s.Start)} -> {Number(s.End)}`",
        { Default: ListValue l } => "`[" + string.Join(", ", l.Items.Select(i => Number(((NumberValue)i).Value))) + "]`",
        { Default: { } value } => $"`{value.Display}`",
        _ => string.Empty,
    };

    /// <summary>A number as the language writes it: <c>1e-6</c>, <c>0.5</c>, <c>25</c>.</summary>
    private static string Number(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var e = text.IndexOf('E');
        return e < 0 ? text : text[..e] + "e" + int.Parse(text[(e + 1)..], CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
    }
}
