using System.Reflection;
using Jepa.Dsl.Emit;
using Jepa.Generators.Tests.Infrastructure;
using Jepa.Runtime.Training;

namespace Jepa.Generators.Tests;

/// <summary>
/// The emitter keeps its own lists of the names the runtime's types take (<see cref="CSharpNames"/>), so that a member
/// or option made from a user's name never hides one. These tests read the real types by reflection: a member added to
/// <see cref="JepaExperiment"/> or <see cref="ExperimentOptions"/> without its name in the lists fails here, not as a
/// CS0108 inside a user's generated code.
/// </summary>
public class ReservedNamesTests
{
    /// <summary>The names a derived class in another assembly sees: public and protected members of the type and its
    /// bases (object included), without accessors and compiler-made names.</summary>
    private static IEnumerable<string> VisibleMembers(Type type) =>
        type.GetMembers(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy)
            .Concat(type.BaseType is { } baseType ? baseType.GetMembers(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance) : [])
            .Where(m => m switch
            {
                MethodBase method => (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly) && !method.IsSpecialName && !method.IsConstructor,
                FieldInfo field => (field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly) && !field.IsSpecialName,
                PropertyInfo property => property.GetMethod is { } get && (get.IsPublic || get.IsFamily || get.IsFamilyOrAssembly),
                EventInfo e => e.AddMethod is { } add && (add.IsPublic || add.IsFamily || add.IsFamilyOrAssembly),
                Type nested => nested.IsNestedPublic || nested.IsNestedFamily || nested.IsNestedFamORAssem,
                _ => false,
            })
            .Select(m => m.Name)
            .Where(name => !name.Contains('<') && !name.Contains('.'))
            .Distinct()
            .Order(StringComparer.Ordinal);

    [Fact]
    public void Every_member_of_the_experiment_base_class_is_reserved()
    {
        var missing = VisibleMembers(typeof(JepaExperiment)).Where(n => !CSharpNames.ReservedMembers.Contains(n)).ToList();

        Assert.True(missing.Count == 0, "members of JepaExperiment that the emitter may take: " + string.Join(", ", missing));
        Assert.Contains("Finalize", VisibleMembers(typeof(JepaExperiment)));
    }

    [Fact]
    public void Every_member_of_the_options_base_record_is_a_base_option()
    {
        var missing = VisibleMembers(typeof(ExperimentOptions)).Where(n => !CSharpNames.BaseOptions.Contains(n)).ToList();

        Assert.True(missing.Count == 0, "members of ExperimentOptions that an option property may take: " + string.Join(", ", missing));
        Assert.Contains("Nesterov", VisibleMembers(typeof(ExperimentOptions)));
        Assert.Contains("Validate", VisibleMembers(typeof(ExperimentOptions)));
    }

    [Fact]
    public void Every_member_the_generated_class_declares_is_reserved_and_cannot_name_an_experiment()
    {
        // JEPA119 names the generated members an experiment cannot take; each of them is also reserved.
        var generated = Jepa.Dsl.Binding.ExperimentBinder.GeneratedMembers.Keys.ToList();

        Assert.Contains("TrainingStep", generated);
        Assert.DoesNotContain(generated, n => !CSharpNames.ReservedMembers.Contains(n));
    }

    [Fact]
    public void An_option_named_after_a_method_of_the_options_record_gets_another_name_and_compiles_without_warnings()
    {
        // Encoder "to" with an argument "json" would make the property ToJson, hiding ExperimentOptions.ToJson() (CS0108).
        const string encoder = """
            using static TorchSharp.torch;
            namespace MyApp.Encoders;
            public sealed class Jsonish : nn.Module<Tensor, Tensor>
            {
                private readonly TorchSharp.Modules.Linear layer;
                public Jsonish(int @out, int json = 0) : base(nameof(Jsonish)) { layer = nn.Linear(64, @out); RegisterComponents(); }
                public override Tensor forward(Tensor x) => layer.forward(x.flatten(1));
            }
            """;
        var text = CustomTypeTests.Jepa("MyApp.Encoders.Jsonish(out: 32, json: 1)").Replace("context", "to", StringComparison.Ordinal);

        var (result, output, diagnostics) = GeneratorHarness.Run("/project/custom.jepa", text, encoder);

        Assert.Empty(diagnostics);
        var source = Assert.Single(Assert.Single(result.Results).GeneratedSources).SourceText.ToString();
        Assert.Contains("public int ToJsonValue { get; init; } = 1;", source, StringComparison.Ordinal);
        Assert.Empty(GeneratorHarness.CompileDiagnostics(output));
    }
}
