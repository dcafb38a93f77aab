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
        var (seen, problems) = TypeGraph.Walk(typeof(BoundFile), IsLeaf, "Jepa.Dsl.Binding", "Jepa.Dsl.Cost");
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

    /// <summary>Values, and the catalog's descriptions of built-ins the binder attaches: immutable singletons, equal by
    /// identity.</summary>
    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(SourceSpan) || type == typeof(Dim)
        || type == typeof(Jepa.Dsl.Catalog.Builtin);
}
