using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Jepa.Dsl.Binding;

namespace Jepa.Dsl.Emit;

/// <summary>Small helpers for writing C#: names, literals and qualified runtime types.</summary>
internal static class CSharp
{
    public const string Runtime = "global::Jepa.Runtime";
    public const string Tensor = "global::TorchSharp.torch.Tensor";
    public const string Generator = "global::TorchSharp.torch.Generator";
    public const string Torch = "global::TorchSharp.torch";

    private static readonly HashSet<string> Keywords = new(System.StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override", "params",
        "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof",
        "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong",
        "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    };

    /// <summary><c>feature_dropout</c> -> <c>FeatureDropout</c>, <c>context</c> -> <c>Context</c>.</summary>
    public static string Pascal(string name)
    {
        var builder = new StringBuilder(name.Length);
        var upper = true;
        foreach (var c in name)
        {
            if (c == '_')
            {
                upper = true;
                continue;
            }

            builder.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }

        // A name of underscores only, or one whose first letter follows an underscore and is a digit (_1), still
        // needs a valid identifier.
        return builder.Length == 0 ? "_" : char.IsDigit(builder[0]) ? "_" + builder : builder.ToString();
    }

    /// <summary>A name usable as a C# identifier (keywords escaped with <c>@</c>).</summary>
    public static string Identifier(string name) => Keywords.Contains(name) ? "@" + name : name;

    public static string Number(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.IndexOfAny(new[] { '.', 'E', 'e' }) >= 0 ? text : text + ".0";
    }

    public static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>An integer with thousands separators, for comments.</summary>
    public static string Grouped(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Bool(bool value) => value ? "true" : "false";

    public static string String(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    public static string IntList(IEnumerable<int> values) => "[" + string.Join(", ", values.Select(v => Integer(v))) + "]";

    public static string NumberList(IEnumerable<double> values) => "[" + string.Join(", ", values.Select(Number)) + "]";

    public static string Pair((double Low, double High) range) => $"({Number(range.Low)}, {Number(range.High)})";

    /// <summary>The source text of a statement on one line, safe inside a comment.</summary>
    public static string Comment(string? source) => (source ?? string.Empty).Replace("*/", "* /").Trim();

    /// <summary>The source text inside an XML doc comment.</summary>
    public static string Xml(string? source) =>
        Comment(source).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
