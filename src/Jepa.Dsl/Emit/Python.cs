using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Jepa.Dsl.Binding;

namespace Jepa.Dsl.Emit;

/// <summary>Small helpers for writing Python: literals, identifiers, snake case and comments wrapped to the line width.</summary>
internal static class Python
{
    /// <summary>The width comments and docstrings are wrapped to (the project's line width).</summary>
    public const int Width = 120;

    /// <summary>Python's keywords: a name from the file that is one gets an underscore.</summary>
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
        "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or",
        "pass", "raise", "return", "try", "while", "with", "yield",
    };

    /// <summary>A name usable as a Python identifier (a keyword gets a trailing underscore).</summary>
    public static string Identifier(string name) => Keywords.Contains(name) ? name + "_" : name;

    /// <summary><c>DigitsVicReg</c> -> <c>digits_vic_reg</c>, <c>JEPAModel</c> -> <c>jepa_model</c>, <c>my_run2</c> as it is.</summary>
    public static string Snake(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0 && name[i - 1] != '_'
                && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
            {
                builder.Append('_');
            }

            builder.Append(char.ToLowerInvariant(c));
        }

        return builder.ToString();
    }

    /// <summary>A float literal: integers with <c>.0</c>, small values in scientific notation as a file writes them
    /// (<c>1e-3</c>, <c>3e-4</c>; 0.01 and above as decimals), else the shortest round-trip form.</summary>
    public static string Number(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            throw new NotSupportedException($"the emitter does not support the number {value}");
        }

        var plain = value.ToString("R", CultureInfo.InvariantCulture);
        if (value != 0 && Math.Abs(value) < 0.01)
        {
            return Scientific(plain);
        }

        if (plain.IndexOf('E') >= 0)
        {
            return plain.Replace("E+", "e+").Replace("E-", "e-");
        }

        return plain.IndexOf('.') >= 0 ? plain : plain + ".0";
    }

    /// <summary>The shortest round-trip digits of a number below 0.01 in scientific notation: <c>0.00025</c> -> <c>2.5e-4</c>.</summary>
    private static string Scientific(string shortest)
    {
        var sign = shortest.StartsWith("-", StringComparison.Ordinal) ? "-" : string.Empty;
        var digits = shortest.TrimStart('-');
        var e = digits.IndexOf('E');
        if (e >= 0)
        {
            return sign + digits.Substring(0, e) + "e" + int.Parse(digits.Substring(e + 1), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        }

        var fraction = digits.Substring(digits.IndexOf('.') + 1);
        var zeros = fraction.Length - fraction.TrimStart('0').Length;
        var significant = fraction.Substring(zeros);
        var mantissa = significant.Length == 1 ? significant : significant.Substring(0, 1) + "." + significant.Substring(1);
        return sign + mantissa + "e-" + (zeros + 1).ToString(CultureInfo.InvariantCulture);
    }

    public static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string String(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    public static string Tuple(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count == 1 ? $"({list[0]},)" : "(" + string.Join(", ", list) + ")";
    }

    /// <summary>A bound value as the Python literal of its parameter's type: lists, tuples for ranges, <c>T.Ramp</c> for
    /// schedules, strings for option names.</summary>
    public static string Literal(ParameterType type, BoundValue value) => value switch
    {
        NumberValue n when type == ParameterType.Integer => Integer((long)n.Value),
        NumberValue n when type == ParameterType.NumberOrSchedule => $"T.Ramp({Number(n.Value)}, {Number(n.Value)})",
        NumberValue n => Number(n.Value),
        ScheduleValue s => $"T.Ramp({Number(s.Start)}, {Number(s.End)})",
        RangeValue r => $"({Number(r.Low)}, {Number(r.High)})",
        ListValue l when type is ParameterType.IntegerList or ParameterType.Size => "[" + string.Join(", ", l.Items.Select(i => Integer((long)((NumberValue)i).Value))) + "]",
        ListValue l => "[" + string.Join(", ", l.Items.Select(i => Number(((NumberValue)i).Value))) + "]",
        BooleanValue b => b.Value ? "True" : "False",
        OptionValue o => String(o.Name),
        _ => throw new NotSupportedException($"the emitter does not support the value {value.Display}"),
    };

    /// <summary>Text safe inside a comment or docstring: one line, no docstring terminator.</summary>
    public static string Comment(string? text) => (text ?? string.Empty).Replace("\"\"\"", "\"\" \"").Replace('\n', ' ').Replace('\r', ' ').Trim();

    /// <summary><paramref name="text"/> in lines of at most <paramref name="width"/> characters (a longer word stands
    /// alone), the first after <paramref name="first"/> and the rest after <paramref name="next"/>. The spaces between
    /// words are kept (<c>"note.   (B, 64)"</c>) but for a line break.</summary>
    public static IEnumerable<string> Wrap(string text, string first, string next, int width = Width)
    {
        var line = new StringBuilder(first);
        var empty = true;
        foreach (Match word in Words.Matches(text))
        {
            var gap = word.Groups[1].Value;
            var value = word.Groups[2].Value;
            if (!empty && line.Length + gap.Length + value.Length > width)
            {
                yield return line.ToString();
                line.Clear().Append(next);
                empty = true;
            }

            line.Append(empty ? string.Empty : gap).Append(value);
            empty = false;
        }

        yield return line.ToString();
    }

    private static readonly Regex Words = new(@"( *)(\S+)", RegexOptions.CultureInvariant);
}
