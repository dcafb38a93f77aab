using System;
using System.Linq;
using System.Threading;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Spec;

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
/// docs/internals/generated-code-contract.md), printed from the experiment's <see cref="ExperimentSpec"/>. The output
/// depends only on the spec (the file's text, name and the options): the same input gives the same bytes on every
/// machine.
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
        var spec = Spec(compilation, experiment, options.RootNamespace);
        return new EmittedSource(HintName(spec, options.HintPrefix), Print(spec, options.GeneratorVersion), ClassName(spec));
    }

    /// <summary>The spec of one experiment (<see cref="CanEmit"/> must be true), in the file's namespace, else the
    /// experiment's, else <paramref name="rootNamespace"/>.</summary>
    public static ExperimentSpec Spec(JepaCompilation compilation, BoundExperiment experiment, string rootNamespace) =>
        SpecBuilder.Build(experiment, compilation.Path, compilation.Bound.Namespace ?? experiment.Namespace ?? rootNamespace);

    /// <summary>The C# class of a spec.</summary>
    public static string Print(ExperimentSpec spec, string generatorVersion = Version) => new ExperimentEmitter(spec, generatorVersion).Emit();

    /// <summary>The generated file's name: <paramref name="prefix"/> (the file name without extension when empty), the
    /// experiment, <c>.g.cs</c>.</summary>
    public static string HintName(ExperimentSpec spec, string prefix) => $"{(prefix.Length > 0 ? prefix : Stem(spec.FileName))}.{spec.Name}.g.cs";

    /// <summary>The full name of the generated class (namespace-qualified, without <c>@</c> escapes).</summary>
    public static string ClassName(ExperimentSpec spec) => spec.Namespace.Length > 0 ? spec.Namespace + "." + spec.Name : spec.Name;

    /// <summary>True for an experiment without errors and with every part the emitter needs.</summary>
    public static bool CanEmit(BoundExperiment experiment) => SpecBuilder.CanBuild(experiment);

    private static string Stem(string fileName)
    {
        var dot = fileName.LastIndexOf('.');
        return dot > 0 ? fileName.Substring(0, dot) : fileName;
    }
}
