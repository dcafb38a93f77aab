using Jepa.Dsl.Parsing;
using Jepa.Dsl.Syntax;

namespace Jepa.Dsl.Tests.Parsing;

public class ParserTests
{
    [Fact]
    public void ParsesEveryStatementKind()
    {
        const string text = """
            namespace Digits.Models;
            // a comment
            experiment E {
                input image: float[1, 8, 8];
                corruption masked = gaussian_noise(std: 0.1) then block_mask(target_scale: 0.15..0.2);
                encoder context = vit(patch: 2, dim: 64, depth: 4, heads: 4);
                encoder target = ema(context, momentum: 0.996 -> 1.0);
                encoder other = context;
                encoder custom = My.Encoders.Tiny(out: 32, sizes: [1, 2]);
                predictor = transformer(dim: 32, depth: 2, heads: 2);
                objective {
                    predict target(image) from context(masked(image));
                    loss smooth_l1(target_norm: layer) * 2;
                    regularize vicreg(variance: 25, covariance: 1), sigreg * 0.5;
                }
                train { optimizer adamw(lr: 1e-3, betas: [0.9, 0.999]); schedule constant; batch 128; steps 10; seed 7; device cpu; clip -1.5; }
                evaluate { linear_probe(epochs: 100); knn; }
                monitor { collapse(action: stop); }
            }
            """;
        var tree = JepaParser.Parse(text);
        Assert.Empty(tree.Diagnostics);
        Assert.Equal("Digits.Models", tree.Namespace!.Name.Text);
        var experiment = Assert.Single(tree.Experiments);
        Assert.Equal("E", experiment.Name.Text);
        Assert.Equal(11, experiment.Statements.Count);
        var corruption = Assert.IsType<CorruptionStatementSyntax>(experiment.Statements[1]);
        Assert.Equal(2, corruption.Links.Count);
        var blockMask = Assert.IsType<CallSyntax>(corruption.Links[1]);
        var range = Assert.IsType<RangeSyntax>(blockMask.Arguments[0].Value);
        Assert.Equal(0.15, range.Low.Value);
        var custom = Assert.IsType<EncoderStatementSyntax>(experiment.Statements[5]);
        Assert.True(Assert.IsType<CallSyntax>(custom.Value).Name.IsQualified);
        Assert.Single(tree.Comments);
        var train = Assert.IsType<BlockSyntax>(experiment.Statements[8]);
        Assert.Equal(7, train.Statements.Count);
        Assert.Equal(-1.5, Assert.IsType<NumberSyntax>(((SettingStatementSyntax)train.Statements[6]).Value).Value);
    }

    [Fact]
    public void EveryNodeSpanCoversItsText()
    {
        const string text = "experiment E {\n  encoder context = mlp(hidden: [256, 256], out: 128);\n}\n";
        var tree = JepaParser.Parse(text);
        Assert.Empty(tree.Diagnostics);
        var statement = tree.Experiments[0].Statements[0];
        Assert.Equal("encoder context = mlp(hidden: [256, 256], out: 128);", tree.TextOf(statement.Span));
        Assert.Equal(1, statement.Span.StartLine);
        Assert.Equal(2, statement.Span.StartColumn);
        Assert.Equal("[256, 256]", tree.TextOf(((CallSyntax)((EncoderStatementSyntax)statement).Value).Arguments[0].Value.Span));
        Assert.Equal(text.TrimEnd('\n'), tree.TextOf(tree.Experiments[0].Span));
    }

    [Theory]
    [InlineData("experiment E {\n  encoder a = mlp(out: 3)\n  encoder b = mlp(out: 3);\n}", "JEPA001", 2, 2, "unexpected 'encoder'; expected ';'", 1)]
    [InlineData("experiment E {\n  encodr a = mlp(out: 3);\n}", "JEPA002", 1, 2, "'encodr' is not a statement of an experiment; did you mean 'encoder'?", 0)]
    [InlineData("experiment E {\n  encoder a = mlp(out: 3, norm layer);\n}", "JEPA001", 1, 31, "unexpected 'layer'; expected ',' or ')'", 0)]
    [InlineData("experiment E {\n  corruption c = random_mask(ratio: 0.1..);\n}", "JEPA001", 1, 41, "unexpected ')'; expected a number", 0)]
    [InlineData("experiment E {\n  objective { predict a(x) from b(x); loss mse;\n  train { batch 1; }\n}", "JEPA001", 2, 2, "unexpected 'train'; expected '}'", 2)]
    public void ReportsTheOffendingToken(string text, string id, int line, int column, string messageStart, int statementsAfterRecovery)
    {
        var tree = JepaParser.Parse(text);
        var diagnostic = Assert.Single(tree.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal((line, column), (diagnostic.Span.StartLine, diagnostic.Span.StartColumn));
        Assert.StartsWith(messageStart, diagnostic.Message);
        Assert.Equal(statementsAfterRecovery, tree.Experiments[0].Statements.Count(s => s is not ErrorStatementSyntax));
    }

    [Fact]
    public void AFailedStatementLeavesAnErrorNodeWithItsDeclaredName()
    {
        var tree = JepaParser.Parse("experiment E {\n  encoder context = mlp(out: 3\n  input image: float[64];\n}");
        var broken = Assert.IsType<ErrorStatementSyntax>(tree.Experiments[0].Statements[0]);
        Assert.Equal(("encoder", "context"), (broken.Keyword.Text, broken.Name!.Text));
        Assert.Equal("encoder context = mlp(out: 3", tree.TextOf(broken.Span));
        Assert.IsType<InputStatementSyntax>(tree.Experiments[0].Statements[1]);
    }

    [Fact]
    public void RecoversToReportEverySyntaxError()
    {
        const string text = """
            experiment A {
                input image: float[64;
                encoder a = mlp(out: 3);
                train { batch ; epochs 3; sed 3; }
                objective { predict a(image) from a(image) loss mse; }
            }
            experiment { }
            experiment C { input x: float[2]; }
            """;
        var tree = JepaParser.Parse(text);
        Assert.Equal(
            new[] { (1, "JEPA001"), (3, "JEPA001"), (3, "JEPA002"), (4, "JEPA001"), (6, "JEPA001") },
            tree.Diagnostics.Select(d => (d.Span.StartLine, d.Id)).ToArray());
        Assert.Equal(new[] { "A", "C" }, tree.Experiments.Select(e => e.Name.Text).ToArray());
    }

    [Theory]
    [InlineData("[", "]")]
    [InlineData("f(", ")")]
    public void DeepNestingIsASyntaxErrorNotAStackOverflow(string open, string close)
    {
        var value = string.Concat(Enumerable.Repeat(open, 100_000)) + "1" + string.Concat(Enumerable.Repeat(close, 100_000));
        var tree = JepaParser.Parse("experiment E { encoder a = mlp(hidden: " + value + ", out: 3); }");
        var diagnostic = Assert.Single(tree.Diagnostics);
        Assert.Contains("nested at most 64 levels deep", diagnostic.Message);
        Assert.Empty(JepaParser.Parse("experiment E { encoder a = mlp(hidden: " + string.Concat(Enumerable.Repeat("[", 10)) + "1" + string.Concat(Enumerable.Repeat("]", 10)) + ", out: 3); }").Diagnostics);
    }

    [Fact]
    public void ASyntaxErrorMarksItsExperimentAsErroneous()
    {
        var text = Examples.ContractVector.Replace("seed 1; }", "seed 1 }") + "\n" + Examples.ContractTokens;
        var compilation = JepaCompiler.Compile("f.jepa", text);
        Assert.Equal("JEPA001", Assert.Single(compilation.Diagnostics).Id);
        Assert.Equal(new[] { true, false }, compilation.Bound.Experiments.Select(e => e.HasErrors).ToArray());
    }
}

public class CompilerFacadeTests
{
    [Fact]
    public void CancellationThrowsInsteadOfReportingAnInternalError()
    {
        using var source = new CancellationTokenSource();
        source.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => JepaCompiler.Compile("a.jepa", Examples.DigitsJepaTokens, source.Token));
    }

    [Fact]
    public void TheCompilationExposesTextPathTreeAndSortedDiagnostics()
    {
        var compilation = JepaCompiler.Compile("dir/a.jepa", "experiment A { }\nexperiment B { encodr x = 1; }");
        Assert.Equal(("dir/a.jepa", 2), (compilation.Path, compilation.Syntax.Experiments.Count));
        Assert.True(compilation.HasErrors);
        Assert.Equal(compilation.Diagnostics.OrderBy(d => d.Span.Start).ThenBy(d => d.Id, StringComparer.Ordinal), compilation.Diagnostics);
        Assert.IsType<Jepa.Dsl.Collections.EquatableArray<Jepa.Dsl.Diagnostics.Diagnostic>>(compilation.Diagnostics);
    }
}
