using System;

namespace Jepa.Dsl.Emit;

/// <summary>The C# column's templates (<see cref="Catalog.CSharpMember"/>): holes filled by <see cref="Template"/>, and
/// the type a constructing template names.</summary>
internal static class CSharpTemplate
{
    /// <summary>The template with every hole replaced by <paramref name="fill"/>'s text for its name (with the <c>$</c>).</summary>
    public static string Expand(string template, Func<string, string> fill) => Template.Expand(template, fill);

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
