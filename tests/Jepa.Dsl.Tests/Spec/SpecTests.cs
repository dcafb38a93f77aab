using Jepa.Dsl.Binding;
using Jepa.Dsl.Emit;
using Jepa.Dsl.Spec;

namespace Jepa.Dsl.Tests.Spec;

/// <summary>
/// The spec is what the generator caches its sources on: plain data equal by value all the way down, with no span,
/// syntax node or catalog object in it, and equal for two files that differ only in comments and white space within
/// lines.
/// </summary>
public class SpecTests
{
    private static ExperimentSpec SpecOf(string text, string path = "/project/digits.jepa")
    {
        var compilation = JepaCompiler.Compile(path, text);
        Assert.False(compilation.HasErrors, string.Join("\n", compilation.Diagnostics.Select(d => d.Format(path))));
        return CSharpEmitter.Spec(compilation, compilation.Bound.Experiments.Single(), "Root");
    }

    [Fact]
    public void The_spec_holds_only_value_equal_data_without_spans()
    {
        var (seen, problems) = TypeGraph.Walk(typeof(ExperimentSpec),
            type => type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(Dim) || type == typeof(Position) || type == typeof(PositionRange),
            "Jepa.Dsl.Spec", "Jepa.Dsl.Binding", "Jepa.Dsl.Cost");

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.DoesNotContain(typeof(Jepa.Dsl.Text.SourceSpan), seen);
        Assert.DoesNotContain(typeof(Jepa.Dsl.Catalog.Builtin), seen);
        Assert.Contains(typeof(MaskStep), seen); // reached through the abstract StepSpec
        Assert.Contains(typeof(ScheduleValue), seen);
    }

    [Fact]
    public void Specs_of_the_same_text_are_equal_and_a_comment_or_spacing_within_a_line_changes_nothing()
    {
        var text = Examples.ContractTokens;
        var spec = SpecOf(text);
        Assert.Equal(spec, SpecOf(text));
        Assert.Equal(spec.GetHashCode(), SpecOf(text).GetHashCode());

        var commented = text.Replace("seed 7; }", "seed 7; }   // the seed of every draw", StringComparison.Ordinal);
        var spaced = text.Replace("input image: float[1, 8, 8];", "input image: float[1, 8, 8];      /* padded */", StringComparison.Ordinal);
        Assert.NotEqual(text, commented);
        Assert.NotEqual(text, spaced);
        Assert.Equal(spec, SpecOf(commented));
        Assert.Equal(spec, SpecOf(spaced));
    }

    [Fact]
    public void A_value_a_name_or_a_moved_statement_changes_the_spec()
    {
        var text = Examples.ContractTokens;
        var spec = SpecOf(text);

        Assert.NotEqual(spec, SpecOf(text.Replace("seed 7", "seed 8", StringComparison.Ordinal)));
        Assert.NotEqual(spec, SpecOf(text.Replace("dim: 32", "dim: 48", StringComparison.Ordinal)));
        Assert.NotEqual(spec, SpecOf(text.Replace("masked", "hidden", StringComparison.Ordinal)));
        Assert.NotEqual(spec, SpecOf("\n" + text)); // every back-reference moves one line down
        Assert.NotEqual(spec, SpecOf(text, "/project/other.jepa"));
    }

    [Fact]
    public void Options_are_named_by_neutral_identifiers_and_steps_carry_their_notes_and_shapes()
    {
        var spec = SpecOf(Examples.ContractTokens);

        var ids = spec.Options.SelectMany(g => g.Options).Select(o => o.Id).ToList();
        Assert.Contains(new OptionId(new OwnerId(OwnerKind.Link, "masked", "block_mask", 0, 1), "targets"), ids);
        Assert.Contains(new OptionId(new OwnerId(OwnerKind.Encoder, "context"), "patch"), ids);
        Assert.Contains(new OptionId(new OwnerId(OwnerKind.Loss, "loss"), "scale"), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());

        Assert.Equal(
            ["MaskStep", "TargetStep", "ContextStep", "PredictStep", "LossStep", "BackwardStep", "EmaStep"],
            spec.TrainingStep.Steps.Select(s => s.GetType().Name));
        var context = spec.TrainingStep.Steps.OfType<ContextStep>().Single();
        Assert.Equal(("Context: the encoder sees only the context tokens", "(B, 1, 8, 8) -> (B, Nc, 64)", true), (context.Note, context.Shapes, context.Masked));
        Assert.Equal(new BuiltinRef(Jepa.Dsl.Catalog.BuiltinKind.Predictor, "transformer"), spec.Model.Predictor.Builtin);
        Assert.Equal(new Position(2, 5), spec.Input.Position);
    }
}
