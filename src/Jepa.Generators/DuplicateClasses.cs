using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Jepa.Generators;

/// <summary>
/// Finds experiments of different <c>.jepa</c> files that generate a class of the same full name (same experiment name
/// in the same namespace). Each file compiles alone, so only the generator sees this; left alone it would be CS0101
/// inside a generated file. Of each group the first (ordinal order of file path) keeps its class; every other one is
/// JEPA153 at its experiment's name, and its file is not generated.
/// </summary>
internal static class DuplicateClasses
{
    /// <summary>The duplicates of a project; empty when every class name is unique (the usual case).</summary>
    public static EquatableArray<DuplicateClass> Find(IEnumerable<FileClasses> files)
    {
        var duplicates = new List<DuplicateClass>();
        var all = files
            .SelectMany(f => f.Classes.Select(c => (f.Path, Class: c)))
            .OrderBy(p => p.Path, StringComparer.Ordinal)
            .ThenBy(p => p.Class.NameSpan.Start);
        foreach (var group in all.GroupBy(p => p.Class.ClassName, StringComparer.Ordinal))
        {
            var first = group.First();
            var where = $"{first.Path}({first.Class.NameSpan.StartLine + 1},{first.Class.NameSpan.StartColumn + 1})";
            foreach (var (path, @class) in group.Skip(1))
            {
                var descriptor = DiagnosticDescriptors.ExperimentDeclaredTwice;
                var name = @class.ClassName.Substring(@class.ClassName.LastIndexOf('.') + 1);
                var diagnostic = new DiagnosticInfo(
                    descriptor.Id,
                    descriptor.Title,
                    descriptor.FormatMessage(name, where, @class.ClassName),
                    DiagnosticSeverity.Error,
                    descriptor.Category,
                    @class.NameSpan);
                duplicates.Add(new DuplicateClass(path, @class.HintName, diagnostic));
            }
        }

        return duplicates.ToEquatableArray();
    }

    /// <summary>The duplicates, and the renames the other generated files need (duplicates are not added).</summary>
    public static ProjectNames Resolve(ImmutableArray<FileClasses> files)
    {
        var duplicates = Find(files);
        if (duplicates.Count == 0) return new ProjectNames(HintNames.Renames(files), duplicates);
        var added = files.Select(f => f with
        {
            Classes = f.Classes.Where(c => !duplicates.Any(d => d.Path == f.Path && d.HintName == c.HintName)).ToEquatableArray(),
        });
        return new ProjectNames(HintNames.Renames(added), duplicates);
    }
}
