using System;
using System.Text;

namespace Jepa.Dsl.Emit;

/// <summary>Fills the holes of a catalog entry's template (<see cref="Catalog.CSharpMember"/>,
/// <see cref="Catalog.PythonMember"/>): <c>{name}</c> is a parameter of the built-in, <c>{$name}</c> something the
/// emitter provides. Every target's emitter expands its column with it.</summary>
internal static class Template
{
    /// <summary>The template with every hole replaced by <paramref name="fill"/>'s text for its name (with the <c>$</c>).</summary>
    public static string Expand(string template, Func<string, string> fill)
    {
        var builder = new StringBuilder(template.Length + 32);
        var i = 0;
        while (i < template.Length)
        {
            var open = template.IndexOf('{', i);
            if (open < 0)
            {
                builder.Append(template, i, template.Length - i);
                break;
            }

            var close = template.IndexOf('}', open);
            if (close < 0)
            {
                throw new FormatException($"an unclosed hole in the template '{template}'");
            }

            builder.Append(template, i, open - i);
            builder.Append(fill(template.Substring(open + 1, close - open - 1)));
            i = close + 1;
        }

        return builder.ToString();
    }
}
