using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Jepa.Dsl.Collections;
using Jepa.Generators.Model;

namespace Jepa.Generators;

/// <summary>
/// Keeps the generated file names of a project unique. Roslyn refuses a second file whose name equals an earlier one
/// ignoring case (and then drops every generated file of the generator), and distinct <c>.jepa</c> files can map to one
/// name: <c>a/b.jepa</c> and <c>a.b.jepa</c>, <c>a b.jepa</c> and <c>a_b.jepa</c>, <c>A.jepa</c> and <c>a.jepa</c>, or
/// experiments <c>E</c> and <c>e</c>. Of each group of colliding names the first (ordinal order of file path, then
/// name) keeps its name and the others get <c>.2</c>, <c>.3</c>, ... before <c>.g.cs</c>; since the part before
/// <c>.g.cs</c> is an experiment name, a C# identifier, a renamed file never takes another file's name.
/// </summary>
internal static class HintNames
{
    private const string Suffix = ".g.cs";

    /// <summary>The renames a set of files needs; empty when every name is already unique (the usual case).</summary>
    public static EquatableArray<HintRename> Renames(IEnumerable<FileClasses> files)
    {
        var renames = new List<HintRename>();
        var all = files
            .SelectMany(f => f.Classes.Select(c => (f.Path, Hint: c.HintName)))
            .OrderBy(p => p.Path, StringComparer.Ordinal)
            .ThenBy(p => p.Hint, StringComparer.Ordinal);
        foreach (var group in all.GroupBy(p => p.Hint, StringComparer.OrdinalIgnoreCase))
        {
            var n = 1;
            foreach (var (path, hint) in group.Skip(1))
            {
                n++;
                var stem = hint.EndsWith(Suffix, StringComparison.Ordinal) ? hint.Substring(0, hint.Length - Suffix.Length) : hint;
                renames.Add(new HintRename(path, hint, $"{stem}.{n}{Suffix}"));
            }
        }

        return renames.ToEquatableArray();
    }

    /// <summary>The name a generated file of <paramref name="path"/> is added under.</summary>
    public static string Resolve(string path, string hint, EquatableArray<HintRename> renames)
    {
        foreach (var rename in renames)
        {
            if (rename.Path == path && rename.HintName == hint) return rename.NewHintName;
        }

        return hint;
    }
}
