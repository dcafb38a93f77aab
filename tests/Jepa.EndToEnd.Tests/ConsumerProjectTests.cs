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
          <ItemGroup>
            <ProjectReference Include="{Repository.Root}/src/Jepa.Runtime/Jepa.Runtime.csproj" />
            <ProjectReference Include="{Repository.Root}/src/Jepa.Generators/Jepa.Generators.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
          </ItemGroup>
          <Import Project="{Repository.Root}/build/Jepa.targets" />
          <Import Project="{Repository.Root}/build/Jepa.Native.targets" />
        </Project>
        """;

    private const string Experiment = """
        experiment Tiny {
            input image: float[1, 8, 8];
            corruption noisy = gaussian_noise(std: 0.1) then feature_dropout(p: 0.2);
            encoder context = mlp(hidden: [32], out: 16);
            encoder target = ema(context, momentum: 0.99 -> 1.0);
            predictor = mlp(hidden: [32]);
            objective { predict target(image) from context(noisy(image)); loss smooth_l1(target_norm: layer); }
            train { optimizer adamw(lr: 1e-3); batch 8; steps 3; seed 5; }
        }
        """;

    private const string Program = """
        using Jepa.Runtime.Data;
        using TorchSharp;

        // Trains the generated experiment for its 3 steps on random data and prints what it did.
        using var data = Datasets.FromTensors(torch.rand(64, 1, 8, 8));
        using var experiment = new Consumer.Tiny();
        var run = experiment.Train(data);
        Console.WriteLine($"steps {run.Steps} loss {run.FinalLoss:R} parameters {Consumer.Tiny.ParameterCount} width {Consumer.Tiny.EmbeddingWidth}");
        """;

    [Fact]
    public void Generated_class_of_a_fresh_project_trains_three_steps()
    {
        using var folder = new TempFolder();
        folder.Write("Consumer.csproj", Project("Consumer"));
        folder.Write("experiments/tiny.jepa", Experiment);
        folder.Write("Program.cs", Program);

        var result = Dotnet.Run(folder.Path, TimeSpan.FromMinutes(5), "run", "-c", Repository.Configuration);

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Matches(@"steps 3 loss [0-9.eE+-]+ parameters \d+ width 16", result.Output);
    }

    [Fact]
    public void Broken_jepa_file_fails_the_build_with_a_located_error()
    {
        using var folder = new TempFolder();
        folder.Write("Consumer.csproj", Project("Consumer"));
        var jepa = folder.Write("tiny.jepa", Experiment.Replace("encoder target = ema(context, momentum: 0.99 -> 1.0);", "encoder target = context;"));
        folder.Write("Program.cs", "Console.WriteLine(\"never runs\");");

        var result = Dotnet.Run(folder.Path, TimeSpan.FromMinutes(5), "build", "-c", Repository.Configuration);

        Assert.NotEqual(0, result.ExitCode);
        // The collapse rule, at the invariance loss: line 7, column 72.
        Assert.Contains($"{jepa}(7,72): error JEPA301: this objective collapses", result.Output);
    }
}
