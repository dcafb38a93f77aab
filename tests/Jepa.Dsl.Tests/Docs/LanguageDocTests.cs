using System.Text.RegularExpressions;

namespace Jepa.Dsl.Tests.Docs;

public class LanguageDocTests
{
    [Fact]
    public void EveryCompleteExampleInTheLanguageReferenceCompilesCleanly()
    {
        var text = RepositoryRoot.Read("docs/language.md");
        var blocks = Regex.Matches(text, "```jepa\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(blocks);
        foreach (var block in blocks)
        {
            var compilation = JepaCompiler.Compile("language.jepa", block);
            Assert.True(compilation.Diagnostics.Count == 0,
                string.Join("\n", compilation.Diagnostics.Select(d => d.Format("language.jepa"))) + "\n" + block);
        }
    }

    [Fact]
    public void EveryBuiltInAndParameterIsDocumented()
    {
        var text = RepositoryRoot.Read("docs/language.md");
        var specs = Jepa.Dsl.Catalog.Builtins.All;
        Assert.True(specs.Count > 25);
        var names = specs.SelectMany(s => s.Parameters.Select(p => p.Name).Append(s.Name)).Concat(Jepa.Dsl.Catalog.Builtins.TrainSettings.Keys);
        var missing = names.Distinct().Where(name => !text.Contains($"`{name}`", StringComparison.Ordinal)).ToList();
        Assert.Empty(missing);
    }
}
