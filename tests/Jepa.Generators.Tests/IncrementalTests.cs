using System.Collections;
using System.Reflection;
using Jepa.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Jepa.Generators.Tests;

public class IncrementalTests
{
    private static readonly string[] FileSteps =
    [
        JepaGenerator.TrackingNames.Options, JepaGenerator.TrackingNames.Files, JepaGenerator.TrackingNames.Compiled,
        JepaGenerator.TrackingNames.Specs, JepaGenerator.TrackingNames.Sources, JepaGenerator.TrackingNames.Diagnostics,
    ];

    [Fact]
    public void Unrelated_csharp_edit_leaves_every_step_cached()
    {
        var file = new InMemoryAdditionalText("/project/digits.jepa", Samples.Vector);
        var compilation = GeneratorHarness.CreateCompilation("class First { }");
        var driver = GeneratorHarness.CreateDriver([file]).RunGenerators(compilation);

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Second { }", new CSharpParseOptions(LanguageVersion.Latest)));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var step in FileSteps)
        {
            var outputs = result.TrackedSteps[step].SelectMany(s => s.Outputs).ToList();
            Assert.NotEmpty(outputs);
            Assert.All(outputs, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        }

        // A file without C# encoders never meets the compilation.
        Assert.False(result.TrackedSteps.ContainsKey(JepaGenerator.TrackingNames.CustomTypes)
                     && result.TrackedSteps[JepaGenerator.TrackingNames.CustomTypes].SelectMany(s => s.Outputs).Any());
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void Editing_one_jepa_file_recompiles_only_that_file()
    {
        var first = new InMemoryAdditionalText("/project/a.jepa", Samples.Vector);
        var second = new InMemoryAdditionalText("/project/b.jepa", Samples.Token);
        var compilation = GeneratorHarness.CreateCompilation("class First { }");
        var driver = GeneratorHarness.CreateDriver([first, second]).RunGenerators(compilation);

        var changed = new InMemoryAdditionalText("/project/b.jepa", Samples.Token.Replace("seed 7", "seed 8"));
        driver = driver.ReplaceAdditionalText(second, changed).RunGenerators(compilation);
        var compiled = driver.GetRunResult().Results.Single().TrackedSteps[JepaGenerator.TrackingNames.Compiled];

        var reasons = compiled.SelectMany(s => s.Outputs.Select(o => (Path: ((dynamic)o.Value).Path as string, o.Reason))).ToList();
        Assert.Contains(("/project/a.jepa", IncrementalStepRunReason.Cached), reasons);
        Assert.Contains(("/project/b.jepa", IncrementalStepRunReason.Modified), reasons);
        var generated = driver.GetRunResult().Results.Single().GeneratedSources;
        Assert.Contains(generated, s => s.SourceText.ToString().Contains("Seed = 8;"));
    }

    [Fact]
    public void Editing_a_comment_recompiles_the_file_but_leaves_its_source_output_cached()
    {
        // A comment of its own line and one after a statement: their text changes, no statement moves.
        var text = Samples.Vector
            .Replace("namespace Digits;", "namespace Digits;\n// the digits, as vectors", StringComparison.Ordinal)
            .Replace("input image: float[64];", "input image: float[64];   // 8x8 pixels", StringComparison.Ordinal);
        var file = new InMemoryAdditionalText("/project/digits.jepa", text);
        var compilation = GeneratorHarness.CreateCompilation("class First { }");
        var driver = GeneratorHarness.CreateDriver([file]).RunGenerators(compilation);
        var before = driver.GetRunResult().Results.Single().GeneratedSources.Single().SourceText.ToString();

        var edited = text.Replace("// the digits, as vectors", "// the 8x8 digits of scikit-learn, flattened", StringComparison.Ordinal)
            .Replace("// 8x8 pixels", "// 64 pixels, 0 to 16", StringComparison.Ordinal);
        var editedFile = new InMemoryAdditionalText("/project/digits.jepa", edited);
        driver = driver.ReplaceAdditionalText(file, editedFile).RunGenerators(compilation);
        var result = driver.GetRunResult().Results.Single();

        // The file was compiled again; its spec came out equal, so nothing downstream of it ran.
        Assert.All(result.TrackedSteps[JepaGenerator.TrackingNames.Compiled].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.All(result.TrackedSteps[JepaGenerator.TrackingNames.Specs].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Unchanged, o.Reason));
        var sourceOutput = result.TrackedOutputSteps.SelectMany(s => s.Value)
            .Where(step => step.Inputs.Any(input => input.Source.Name == JepaGenerator.TrackingNames.Sources))
            .SelectMany(step => step.Outputs)
            .ToList();
        Assert.NotEmpty(sourceOutput);
        Assert.All(sourceOutput, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.Equal(before, result.GeneratedSources.Single().SourceText.ToString());

        // A change to a value is not cached: the spec and the source change.
        var changed = edited.Replace("seed 1;", "seed 2;", StringComparison.Ordinal);
        driver = driver.ReplaceAdditionalText(editedFile, new InMemoryAdditionalText("/project/digits.jepa", changed)).RunGenerators(compilation);
        result = driver.GetRunResult().Results.Single();
        Assert.All(result.TrackedSteps[JepaGenerator.TrackingNames.Specs].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.Contains("Seed = 2;", result.GeneratedSources.Single().SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Pipeline_models_hold_no_symbols_compilations_or_syntax()
    {
        var text = Samples.Vector + "\n" + CustomTypeTests.Jepa("MyApp.Encoders.Tiny(out: 32)");
        var file = new InMemoryAdditionalText("/project/digits.jepa", text);
        var driver = GeneratorHarness.CreateDriver([file]).RunGenerators(GeneratorHarness.CreateCompilation(CustomTypeTests.TinyEncoder));
        var result = driver.GetRunResult().Results.Single();

        string[] ours = [.. FileSteps, JepaGenerator.TrackingNames.CustomTypes];
        var values = result.TrackedSteps.Where(s => ours.Contains(s.Key)).SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Value).ToList();
        Assert.NotEmpty(values);
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var value in values) Walk(value, visited, "output");

        var kinds = visited.Select(v => v.GetType().Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "GeneratorOptions", "JepaInput", "JepaFileResult", "SpecInfo", "ExperimentSpec", "CustomTypeInfo", "SpanInfo", "ArgumentInfo" }, kinds);
    }

    private static void Walk(object? value, HashSet<object> visited, string path)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        var type = value.GetType();
        Assert.False(value is ISymbol, $"{path} holds a symbol ({type})");
        Assert.False(value is Compilation, $"{path} holds a compilation");
        Assert.False(value is SyntaxNode or SyntaxTree, $"{path} holds syntax ({type})");
        Assert.False(value is Location, $"{path} holds a location ({type})");
        if (!type.IsValueType && !visited.Add(value)) return;
        if (value is IEnumerable enumerable)
        {
            var i = 0;
            foreach (var item in enumerable) Walk(item, visited, $"{path}[{i++}]");
            if (type.Namespace?.StartsWith("System", StringComparison.Ordinal) == true) return;
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0) continue;
            Walk(property.GetValue(value), visited, $"{path}.{property.Name}");
        }

        if (type.IsGenericType && type.FullName!.StartsWith("System.ValueTuple", StringComparison.Ordinal))
        {
            foreach (var field in type.GetFields()) Walk(field.GetValue(value), visited, $"{path}.{field.Name}");
        }
    }
}
