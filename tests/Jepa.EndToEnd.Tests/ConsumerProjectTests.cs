namespace Jepa.EndToEnd.Tests;

/// <summary>
/// A fresh console project made by the test (outside the repository's MSBuild files) references the generator and the
/// runtime by project reference, as a user's project inside a repository would; its .jepa becomes a typed class.
/// </summary>
[Collection(DotnetCollection.Name)]
public class ConsumerProjectTests
{
    private static string Project(string name) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
            <RootNamespace>{name}</RootNamespace>
            <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
            <CreateHardLinksForCopyLocalIfPossible>true</CreateHardLinksForCopyLocalIfPossible>
          </PropertyGroup>
          {ConsumerFiles.RepositoryReferences}
          <Import Project="{Repository.Root}/build/Jepa.Native.targets" />
        </Project>
        """;

    [Fact]
    public void Generated_class_of_a_fresh_project_trains_three_steps()
    {
        using var folder = new TempFolder();
        folder.Write("Consumer.csproj", Project("Consumer"));
        folder.Write("experiments/tiny.jepa", ConsumerFiles.TinyExperiment);
        folder.Write("Program.cs", ConsumerFiles.TinyProgram);

        var result = Dotnet.Run(folder.Path, TimeSpan.FromMinutes(5), "run", "-c", Repository.Configuration);

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Matches(@"steps 3 loss [0-9.eE+-]+ parameters \d+ width 16", result.Output);
    }

    [Fact]
    public void Broken_jepa_file_fails_the_build_with_a_located_error()
    {
        using var folder = new TempFolder();
        folder.Write("Consumer.csproj", Project("Consumer"));
        var jepa = folder.Write("tiny.jepa", ConsumerFiles.TinyExperiment.Replace("encoder target = ema(context, momentum: 0.99 -> 1.0);", "encoder target = context;"));
        folder.Write("Program.cs", "Console.WriteLine(\"never runs\");");

        var result = Dotnet.Run(folder.Path, TimeSpan.FromMinutes(5), "build", "-c", Repository.Configuration);

        Assert.NotEqual(0, result.ExitCode);
        // The collapse rule, at the invariance loss: line 7, column 72.
        Assert.Contains($"{jepa}(7,72): error JEPA301: this objective collapses", result.Output);
    }
}
