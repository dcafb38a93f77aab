using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Spec;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Emit;

/// <summary>One exported PyTorch program: its file name (<c>train_digits_jepa.py</c>), text and experiment.</summary>
public sealed record ExportedProgram(string FileName, string Text, string Experiment);

/// <summary>What exporting a compiled file gave: a program per experiment it could print, the experiments it could not
/// (<see cref="Failed"/>), and the diagnostics (the compiler's, and JEPA154 or JEPA902 for each failed experiment).</summary>
public sealed record ExportResult(EquatableArray<ExportedProgram> Programs, EquatableArray<string> Failed, EquatableArray<Diagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Any(d => d.Severity == Severity.Error);
}

/// <summary>A construct of the spec that the PyTorch target cannot print, located in the <c>.jepa</c> file (JEPA154).</summary>
public sealed class TargetNotSupportedException : NotSupportedException
{
    public TargetNotSupportedException(Position position, string reason)
        : base(reason)
    {
        Position = position;
    }

    public Position Position { get; }
}

/// <summary>
/// The PyTorch target (docs/scale-out.md): prints each error-free experiment's <see cref="ExperimentSpec"/>, the same
/// spec the C# emitter prints, as a program for one process or many under <c>torchrun</c> that imports the runtime
/// package python/jepa_torch. The names come from <see cref="PythonNames"/>, each built-in's runtime member from the
/// catalog's Python column. Never throws: an experiment the target cannot print is JEPA154 at the statement that
/// needs what it lacks, an internal failure JEPA902 at the experiment's name.
/// </summary>
public static class PyTorchEmitter
{
    /// <summary>The target's name on the command line (<c>jepa export --target pytorch</c>).</summary>
    public const string Target = "pytorch";

    /// <summary>The programs of every experiment of <paramref name="compilation"/>; none when it has errors.</summary>
    public static ExportResult Export(JepaCompilation compilation, CancellationToken cancellationToken = default)
    {
        if (compilation.HasErrors)
        {
            return new ExportResult(default, default, compilation.Diagnostics.ToEquatableArray());
        }

        var programs = new List<ExportedProgram>();
        var failed = new List<string>();
        var diagnostics = compilation.Diagnostics.ToList();
        var lines = new LineMap(compilation.Text);
        foreach (var experiment in compilation.Bound.Experiments.Where(SpecBuilder.CanBuild))
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var spec = SpecBuilder.Build(experiment, compilation.Path, string.Empty);
                var text = Print(spec);
                programs.Add(new ExportedProgram(FileName(spec.Name), text, spec.Name));
            }
            catch (TargetNotSupportedException unsupported)
            {
                var descriptor = DiagnosticDescriptors.NotSupportedByPyTorch;
                diagnostics.Add(new Diagnostic(descriptor, At(lines, unsupported.Position), descriptor.FormatMessage(unsupported.Message, experiment.Name)));
                failed.Add(experiment.Name);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                var descriptor = DiagnosticDescriptors.EmitterInternalError;
                diagnostics.Add(new Diagnostic(descriptor, experiment.NameSpan, descriptor.FormatMessage($"{exception.GetType().Name}: {exception.Message}")));
                failed.Add(experiment.Name);
            }
        }

        // Two experiments whose names give one file name (FooBar and foo_bar) get distinct ones.
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var named = programs.Select(p =>
        {
            var name = p.FileName;
            for (var i = 2; !taken.Add(name); i++)
            {
                name = p.FileName.Substring(0, p.FileName.Length - 3) + "_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".py";
            }

            return p with { FileName = name };
        });
        return new ExportResult(named.ToEquatableArray(), failed.ToEquatableArray(), diagnostics.OrderBy(d => d.Span.Start).ThenBy(d => d.Id, StringComparer.Ordinal).ToEquatableArray());
    }

    /// <summary>The program of a spec. Throws <see cref="TargetNotSupportedException"/> for what the target lacks.</summary>
    public static string Print(ExperimentSpec spec) => new PyTorchProgramWriter(spec).Write();

    /// <summary>The file name of an experiment's program: <c>train_</c>, the name in snake case, <c>.py</c>.</summary>
    public static string FileName(string experiment) => PythonNames.ProgramFile(experiment);

    /// <summary>The span of a 1-based position of <paramref name="lines"/>'s text (one character, or empty at the end).</summary>
    private static SourceSpan At(LineMap lines, Position position)
    {
        var line = Math.Min(Math.Max(position.Line - 1, 0), lines.LineCount - 1);
        var start = Math.Min(lines.LineStart(line) + Math.Max(position.Column - 1, 0), lines.Text.Length);
        return lines.Span(start, Math.Min(start + 1, lines.Text.Length));
    }
}
