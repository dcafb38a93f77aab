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

    [Fact]
    public void The_tables_of_builtins_are_generated_from_the_catalog()
    {
        var path = RepositoryRoot.Combine("docs", "language.md");
        var doc = RepositoryRoot.Read("docs/language.md");
        var regenerated = CatalogTables.Regenerate(doc);
        if (regenerated != doc && Environment.GetEnvironmentVariable("JEPA_ACCEPT_SNAPSHOTS") == "1")
        {
            File.WriteAllText(path, regenerated);
            return;
        }

        // Every kind of built-in has its table, and each table is the catalog's (JEPA_ACCEPT_SNAPSHOTS=1 rewrites them).
        Assert.Equal(Enum.GetValues<Jepa.Dsl.Catalog.BuiltinKind>().Order(),
            CatalogTables.Markers(doc).SelectMany(m => m.Split(' ')).Select(k => Enum.Parse<Jepa.Dsl.Catalog.BuiltinKind>(k, ignoreCase: true)).Order());
        Assert.Equal(regenerated, doc);
    }
}
