using Xunit.Abstractions;

namespace Jepa.PyTorch.Tests;

/// <summary>The Python side's own tests (tests/python: the runtime against hand-computed values, DDP against one process,
/// the negative controls, kill and resume), run by pytest so that <c>dotnet test Jepa.sln</c> runs them.</summary>
[Collection(PyTorchCollection.Name)]
public class PytestSuiteTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Pytest_suite_passes()
    {
        Python.RequireTorch();
        var (code, text) = Python.Run(["-m", "pytest", "tests/python", "-q", "-p", "no:cacheprovider", "-rs", "--durations=8"], TimeSpan.FromMinutes(15));
        output.WriteLine(text);
        Assert.True(code == 0, $"pytest exited with {code}:\n{text}");
        Assert.DoesNotContain(" skipped", text);
    }
}
