using Jepa.Dsl.Emit;

namespace Jepa.Dsl.Tests.Export;

/// <summary>
/// Every example's PyTorch program, and those of the PyTorch tests' own experiments, are committed beside their
/// <c>.jepa</c> file (<c>FOLDER/pytorch/train_NAME.py</c>, as <c>jepa export FILE --target pytorch</c> writes them) and
/// must be what the emitter prints now: a difference writes <c>train_NAME.received.py</c> beside the program and fails;
/// <c>JEPA_ACCEPT_SNAPSHOTS=1</c> accepts (docs/testing.md). A program whose experiment is gone fails as stale.
/// </summary>
public class PyTorchProgramsTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var folder in Directory.GetDirectories(RepositoryRoot.Combine("examples")).Append(RepositoryRoot.Combine("tests", "Jepa.PyTorch.Tests", "Experiments")).Order(StringComparer.Ordinal))
        {
            foreach (var file in Directory.GetFiles(folder, "*.jepa").Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetRelativePath(RepositoryRoot.Path, file).Replace('\\', '/'));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void The_committed_PyTorch_programs_are_what_the_file_exports(string file)
    {
        var result = PyTorchEmitter.Export(JepaCompiler.Compile(file, RepositoryRoot.Read(file)));
        var folder = Path.Combine(Path.GetDirectoryName(RepositoryRoot.Combine(file))!, "pytorch");
        Assert.Empty(result.Failed);   // every example exports (JEPA154 is for what the target cannot print: a C# encoder)
        foreach (var program in result.Programs)
        {
            var committed = Path.Combine(folder, program.FileName);
            Snapshot.MatchFile(program.Text, committed, Path.ChangeExtension(committed, ".received.py"));
        }

        // A file with errors (the collapse example) has no programs; a program whose experiment is gone from every .jepa
        // file of the folder is stale.
        var expected = Directory.GetFiles(Path.GetDirectoryName(RepositoryRoot.Combine(file))!, "*.jepa")
            .SelectMany(f => PyTorchEmitter.Export(JepaCompiler.Compile(f, File.ReadAllText(f))).Programs.Select(p => p.FileName))
            .ToHashSet(StringComparer.Ordinal);
        var stale = Directory.Exists(folder)
            ? Directory.GetFiles(folder, "train_*.py").Select(Path.GetFileName).Where(f => !f!.EndsWith(".received.py", StringComparison.Ordinal) && !expected.Contains(f!)).ToList()
            : [];
        Assert.True(stale.Count == 0, "stale programs: " + string.Join(", ", stale));
    }
}
