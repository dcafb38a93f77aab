using System;
using System.Linq;
using System.Threading;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Collections;

namespace Jepa.Dsl.Emit;

/// <summary>What the emitter needs besides the compilation.</summary>
/// <param name="RootNamespace">The project's root namespace, used when the file has no <c>namespace</c> line.</param>
/// <param name="HintPrefix">Prefix of the generated file names, unique per <c>.jepa</c> file in a project (its path
/// relative to the project, with separators as dots); the file name without extension when empty.</param>
/// <param name="GeneratorVersion">Written into the header and <c>[GeneratedCode]</c>.</param>
public sealed record EmitOptions(string RootNamespace = "", string HintPrefix = "", string GeneratorVersion = CSharpEmitter.Version);

/// <summary>One generated C# file.</summary>
public sealed record EmittedSource(string HintName, string Text, string ClassName);

/// <summary>
/// Writes the C# of every error-free experiment of a compiled <c>.jepa</c> file: one file per experiment, a
/// <c>sealed partial class</c> deriving from <c>Jepa.Runtime.Training.JepaExperiment</c> (see
/// docs/internals/generated-code-contract.md). The output depends only on the file's text, name and the options: the
/// same input gives the same bytes on every machine.
/// </summary>
public static class CSharpEmitter
{
    public const string Version = "0.1.0";

    public static EquatableArray<EmittedSource> Emit(JepaCompilation compilation, EmitOptions options, CancellationToken cancellationToken = default) =>
        compilation.Bound.Experiments
            .Where(CanEmit)
            .Select(experiment =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                return EmitExperiment(compilation, experiment, options);
            })
            .ToEquatableArray();

    /// <summary>Writes the class of one experiment (<see cref="CanEmit"/> must be true). Throws
    /// <see cref="NotSupportedException"/> for a construct the emitter does not handle; callers report that as JEPA902.</summary>
    public static EmittedSource EmitExperiment(JepaCompilation compilation, BoundExperiment experiment, EmitOptions options)
    {
        var prefix = options.HintPrefix.Length > 0 ? options.HintPrefix : Stem(FileName(compilation.Path));
        var ns = compilation.Bound.Namespace ?? experiment.Namespace ?? options.RootNamespace;
        var text = new ExperimentEmitter(experiment, compilation.Path, ns, options.GeneratorVersion).Emit();
        var className = ns.Length > 0 ? ns + "." + experiment.Name : experiment.Name;
        return new EmittedSource($"{prefix}.{experiment.Name}.g.cs", text, className);
    }

    /// <summary>True for an experiment without errors and with every part the emitter needs.</summary>
    public static bool CanEmit(BoundExperiment experiment) =>
        !experiment.HasErrors && experiment.Input is not null && experiment.Objective?.Loss is not null &&
        experiment.Train is not null && experiment.Pipeline is not null && experiment.ContextEncoder is not null &&
        experiment.TargetEncoder is not null;

    internal static string FileName(string path)
    {
        var slash = Math.Max(path.LastIndexOf('/'), path.LastIndexOf('\\'));
        return slash >= 0 ? path.Substring(slash + 1) : path;
    }

    private static string Stem(string fileName)
    {
        var dot = fileName.LastIndexOf('.');
        return dot > 0 ? fileName.Substring(0, dot) : fileName;
    }
}
