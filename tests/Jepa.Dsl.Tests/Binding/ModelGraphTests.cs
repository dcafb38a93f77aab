using System.Reflection;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Cost;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Tests.Binding;

/// <summary>
/// The bound model is what the incremental generator caches, so it must be plain immutable data with value equality:
/// a walk over the fields of every type reachable from <see cref="BoundFile"/> finds only primitives, strings, enums,
/// spans, <see cref="EquatableArray{T}"/>, records of the model and the catalog's built-ins (singletons), with no syntax
/// node, array or mutable collection.
/// </summary>
public class ModelGraphTests
{
    [Fact]
    public void TheBoundModelHoldsOnlyValueEqualData()
    {
        var seen = new HashSet<Type>();
        var problems = new List<string>();
        Walk(typeof(BoundFile), "BoundFile", seen, problems);
        Assert.Empty(problems);
        Assert.Contains(typeof(CostSummary), seen);
        Assert.Contains(typeof(ScheduleValue), seen); // reached through the abstract BoundValue
    }

    [Fact]
    public void SpansOfTheBoundModelPointIntoTheFile()
    {
        var compilation = JepaCompiler.Compile("digits.jepa", Examples.ContractVector);
        var e = compilation.Bound.Experiments[0];
        string At(SourceSpan span) => compilation.Text.Substring(span.Start, span.Length);
        Assert.Equal("predict target(image) from context(noisy(image));", At(e.Objective!.PredictSpan));
        Assert.Equal("predict target(image) from context(noisy(image))", e.Objective.PredictSource);
        Assert.Equal((8, 8), (e.Objective.PredictSpan.StartLine, e.Objective.PredictSpan.StartColumn)); // digits.jepa(9,9)
        Assert.Equal("noisy", At(e.Objective.Context.CorruptionSpan!.Value));
        Assert.Equal("context", At(e.Objective.Context.EncoderSpan));
        Assert.Equal("DigitsJepa", At(e.NameSpan));
        Assert.Equal((11, 4), (e.Train!.Span.StartLine, e.Train.Span.StartColumn)); // digits.jepa(12,5): the sample's train line
        Assert.Equal("0.3", At(e.Corruptions[0].Links[0].Call.Find("p")!.Span));
    }

    private static void Walk(Type type, string path, HashSet<Type> seen, List<string> problems)
    {
        if (IsLeaf(type) || !seen.Add(type))
        {
            return;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            Walk(underlying, path, seen, problems);
            return;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(EquatableArray<>))
        {
            Walk(type.GetGenericArguments()[0], path + "[]", seen, problems);
            return;
        }

        if (type.IsGenericType && type.FullName!.StartsWith("System.ValueTuple", StringComparison.Ordinal))
        {
            foreach (var argument in type.GetGenericArguments())
            {
                Walk(argument, path + ".Item", seen, problems);
            }

            return;
        }

        if (type.Namespace is not ("Jepa.Dsl.Binding" or "Jepa.Dsl.Cost"))
        {
            problems.Add($"{path}: {type} is not part of the bound model");
            return;
        }

        if (type.GetMethod("<Clone>$") is null)
        {
            problems.Add($"{path}: {type.Name} is not a record");
        }

        foreach (var derived in typeof(BoundValue).Assembly.GetTypes().Where(t => t.BaseType == type))
        {
            Walk(derived, path + "<" + derived.Name + ">", seen, problems);
        }

        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            if (field.Name == "EqualityContract" || field.FieldType == typeof(Type))
            {
                continue;
            }

            if (!field.IsInitOnly)
            {
                problems.Add($"{path}.{field.Name} is mutable");
            }

            Walk(field.FieldType, path + "." + field.Name, seen, problems);
        }
    }

    /// <summary>Values, and the catalog's descriptions of built-ins the binder attaches: immutable singletons, equal by
    /// identity.</summary>
    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(SourceSpan) || type == typeof(Dim)
        || type == typeof(Jepa.Dsl.Catalog.Builtin);
}
