using System;
using System.Text;

namespace Jepa.Dsl.Emit;

/// <summary>Fills the holes of a catalog entry's C# template (<see cref="Catalog.CSharpMember"/>): <c>{name}</c> is a
/// parameter of the built-in, <c>{$name}</c> something the emitter provides.</summary>
internal static class CSharpTemplate
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
                throw new FormatException($"an unclosed hole in the C# template '{template}'");
            }

            builder.Append(template, i, open - i);
            builder.Append(fill(template.Substring(open + 1, close - open - 1)));
            i = close + 1;
        }

        return builder.ToString();
    }

    /// <summary>The type a template <c>new T(...)</c> constructs.</summary>
    public static string ConstructedType(string template)
    {
        var paren = template.IndexOf('(');
        if (!template.StartsWith("new ", StringComparison.Ordinal) || paren < 0)
        {
            throw new FormatException($"the C# template '{template}' does not construct an object");
        }

        return template.Substring(4, paren - 4);
    }
}
