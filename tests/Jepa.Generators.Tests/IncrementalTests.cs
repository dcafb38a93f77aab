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
        Assert.Superset(new HashSet<string> { "GeneratorOptions", "JepaInput", "JepaFileResult", "SourceInfo", "CustomTypeInfo", "SpanInfo", "ArgumentInfo" }, kinds);
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
