namespace Jepa.Cli.Tests;

/// <summary>Runs the jepa command in this process and captures what it prints.</summary>
internal static class Cli
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string All => Output + Error;
    }

    public static Result Run(params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var exit = JepaCommand.Run(args, output, error);
        return new Result(exit, output.ToString(), error.ToString());
    }

    /// <summary>The examples whose .jepa compiles (every one but Collapse), as (folder, file).</summary>
    public static TheoryData<string> GoodExamples() => ["Digits/digits.jepa", "TokenJepa/token.jepa", "VicReg/vicreg.jepa", "Contrastive/contrastive.jepa", "SimSiam/simsiam.jepa"];

    public static TheoryData<string> AllExamples()
    {
        var all = GoodExamples();
        all.Add("Collapse/collapse.jepa");
        return all;
    }

    public static string Example(string relative) => RepositoryRoot.Combine("examples", relative);
}

/// <summary>A temporary folder deleted with the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "jepa-cli-" + Guid.NewGuid().ToString("N"));

    public TempFolder() => Directory.CreateDirectory(Path);

    public string Write(string name, string text)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
