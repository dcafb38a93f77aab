using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Jepa.Dsl.Collections;
using Jepa.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Jepa.Generators;

/// <summary>
/// Compiles every <c>*.jepa</c> additional file into C# at build time and reports the compiler's diagnostics located in
/// the <c>.jepa</c> file. The pipeline: read file -> compile (parse, bind, build each experiment's spec; plain data out)
/// -> the specs alone -> print and add the sources; the diagnostics are reported by an output of their own (as
/// dotnet/runtime's JSON generator does), so an edit that changes only where a diagnostic is, or a comment, leaves the
/// source output cached. Files that name custom C# modules are also checked against the compilation.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class JepaGenerator : IIncrementalGenerator
{
    /// <summary>Names of the pipeline steps, for incremental-caching tests.</summary>
    public static class TrackingNames
    {
        public const string Options = "JepaOptions";
        public const string Files = "JepaFiles";
        public const string Compiled = "JepaCompiled";
        public const string Specs = "JepaSpecs";
        public const string Sources = "JepaSources";
        public const string Diagnostics = "JepaDiagnostics";
        public const string CustomTypes = "JepaCustomTypes";
        public const string ProjectNames = "JepaProjectNames";
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var options = context.AnalyzerConfigOptionsProvider
            .Select(static (provider, _) => new GeneratorOptions(
                Read(provider.GlobalOptions, "build_property.RootNamespace"),
                Read(provider.GlobalOptions, "build_property.ProjectDir")))
            .WithTrackingName(TrackingNames.Options);

        var files = context.AdditionalTextsProvider
            .Where(static text => text.Path.EndsWith(".jepa", StringComparison.OrdinalIgnoreCase))
            .Select(static (text, ct) => new JepaInput(text.Path, text.GetText(ct)?.ToString() ?? string.Empty))
            .WithTrackingName(TrackingNames.Files);

        var compiled = files
            .Combine(options)
            .Select(static (pair, ct) => FileCompiler.Compile(pair.Left, pair.Right, ct))
            .WithTrackingName(TrackingNames.Compiled);

        // What files need from each other, in one step over the whole project: generated file names must be unique
        // (ignoring case) and distinct files can map to one name; an experiment declared in two files would be CS0101
        // in generated code, so the later one is JEPA153 instead. Both are usually empty and stay cached, so editing
        // one file still re-adds only that file's sources.
        var names = compiled
            .Select(static (result, _) => new FileClasses(result.Path, result.Classes))
            .Collect()
            .Select(static (files, _) => DuplicateClasses.Resolve(files))
            .WithTrackingName(TrackingNames.ProjectNames);

        // The sources depend on the specs alone (and on the project's names, usually empty).
        var sources = compiled
            .Select(static (result, _) => new FileSpecs(result.Path, result.Specs))
            .WithTrackingName(TrackingNames.Specs)
            .Combine(names)
            .WithTrackingName(TrackingNames.Sources);
        context.RegisterSourceOutput(sources, static (spc, pair) => AddSources(spc, pair.Left, pair.Right));

        var diagnostics = compiled
            .Select(static (result, _) => new FileDiagnostics(result.Path, result.Diagnostics))
            .Combine(names)
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (spc, pair) => Report(spc, pair.Left, pair.Right));

        // Only files that name custom C# modules meet the compilation; the others never re-run on a C# edit.
        var customTypeDiagnostics = compiled
            .Where(static result => result.CustomTypes.Count > 0)
            .Combine(context.CompilationProvider)
            .Select(static (pair, ct) => CustomTypeChecker.Check(pair.Left.CustomTypes, pair.Right, ct))
            .WithTrackingName(TrackingNames.CustomTypes);

        context.RegisterSourceOutput(customTypeDiagnostics, static (spc, diagnostics) =>
        {
            foreach (var diagnostic in diagnostics) spc.ReportDiagnostic(DiagnosticFactory.Create(diagnostic));
        });
    }

    private static string Read(Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions options, string key)
        => options.TryGetValue(key, out var value) ? value : string.Empty;

    /// <summary>Prints each spec of a file and adds it, under its unique name; an experiment declared in an earlier
    /// file too is not added (<see cref="Report"/> reports JEPA153 for it).</summary>
    private static void AddSources(SourceProductionContext context, FileSpecs file, ProjectNames names)
    {
        foreach (var spec in file.Specs)
        {
            if (names.Duplicates.Any(d => d.Path == file.Path && d.HintName == spec.HintName))
            {
                continue;
            }

            var (text, error) = FileCompiler.Print(file.Path, spec);
            if (error is not null)
            {
                context.ReportDiagnostic(DiagnosticFactory.Create(error));
                continue;
            }

            context.AddSource(HintNames.Resolve(file.Path, spec.HintName, names.Renames), text!);
        }
    }

    private static void Report(SourceProductionContext context, FileDiagnostics file, ProjectNames names)
    {
        foreach (var diagnostic in file.Diagnostics) context.ReportDiagnostic(DiagnosticFactory.Create(diagnostic));
        foreach (var duplicate in names.Duplicates.Where(d => d.Path == file.Path)) context.ReportDiagnostic(DiagnosticFactory.Create(duplicate.Diagnostic));
    }
}
