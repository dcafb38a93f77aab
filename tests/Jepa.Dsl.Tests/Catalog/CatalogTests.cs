using System.Text.RegularExpressions;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Catalog;

namespace Jepa.Dsl.Tests.Catalog;

/// <summary>
/// Every entry of the catalog is complete for its kind: a C# runtime member (the emitter treats a missing one as an
/// internal error, never as another built-in), templates whose holes are its parameters or what the emitter provides,
/// and the shape and cost rules the passes call.
/// </summary>
public class CatalogTests
{
    public static TheoryData<string> Entries()
    {
        var data = new TheoryData<string>();
        foreach (var builtin in Builtins.All) data.Add($"{builtin.Kind} {builtin.Name}");
        return data;
    }

    private static Builtin Entry(string key)
    {
        var (kind, name) = (Enum.Parse<BuiltinKind>(key.Split(' ')[0]), key.Split(' ')[1]);
        return Builtins.Find(kind, name)!;
    }

    /// <summary>The holes the C# emitter fills besides parameters, per kind.</summary>
    private static readonly Dictionary<BuiltinKind, string[]> Provided = new()
    {
        [BuiltinKind.Corruption] = ["grid"],
        [BuiltinKind.Encoder] = ["input_shape", "module", "source", "create"],
        [BuiltinKind.Predictor] = ["context_width", "grid"],
        [BuiltinKind.Loss] = ["predicted", "target"],
        [BuiltinKind.Regularizer] = ["z", "z1", "z2", "generator"],
    };

    [Theory]
    [MemberData(nameof(Entries))]
    public void Each_entry_maps_to_the_CSharp_runtime_and_its_templates_name_only_its_parameters(string key)
    {
        var builtin = Entry(key);
        var templates = new List<string?>();
        switch (builtin.Kind)
        {
            case BuiltinKind.Corruption:
                Assert.True(builtin.CSharp?.Member is not null || builtin.CSharp?.TokenMask is not null, $"{builtin} has no C# member");
                if (builtin.Has(BuiltinFlags.TokenMask) || builtin.Has(BuiltinFlags.TokenMaskOnTokens)) Assert.NotNull(builtin.CSharp!.TokenMask);
                if (!builtin.Has(BuiltinFlags.TokenMask)) Assert.NotNull(builtin.CSharp!.Member);
                templates.AddRange([builtin.CSharp!.Member, builtin.CSharp.TokenMask]);
                break;
            case BuiltinKind.Regularizer:
                Assert.NotEmpty(builtin.Terms);
                templates.AddRange(builtin.Terms.Select(t => t.CSharp));
                Assert.All(builtin.Terms.Where(t => t.WeightParameter is not null), t => Assert.NotNull(builtin.Find(t.WeightParameter!)));
                break;
            default:
                Assert.True(builtin.CSharp?.Member is not null, $"{builtin} has no C# member");
                templates.AddRange([builtin.CSharp!.Member, builtin.CSharp.Width]);
                break;
        }

        var provided = Provided.TryGetValue(builtin.Kind, out var names) ? names : [];
        foreach (var hole in templates.Where(t => t is not null).SelectMany(t => Regex.Matches(t!, "{([^}]*)}").Select(m => m.Groups[1].Value)))
        {
            Assert.True(hole.StartsWith('$') ? provided.Contains(hole[1..]) : builtin.Find(hole) is { IsOption: true },
                $"{builtin}: the hole {{{hole}}} is neither one of its option parameters nor provided by the emitter");
        }

        // An option parameter the generated class holds needs its C# enum.
        Assert.All(builtin.Parameters.Where(p => p.Type == ParameterType.Option && p.IsOption),
            p => Assert.False(p.OptionSet?.CSharp is null, $"{builtin}: option {p.Name} has no C# enum"));
    }

    [Theory]
    [MemberData(nameof(Entries))]
    public void Each_entry_has_the_rules_its_kind_needs_and_a_one_line_doc(string key)
    {
        var builtin = Entry(key);
        Assert.False(string.IsNullOrWhiteSpace(builtin.Doc));
        Assert.DoesNotContain('\n', builtin.Doc);
        if (builtin.Kind == BuiltinKind.Encoder && builtin.Has(BuiltinFlags.Trainable))
        {
            Assert.Equal(EncoderKind.Module, builtin.EncoderKind);
            Assert.NotNull(builtin.Shape);
            Assert.NotNull(builtin.ParameterCount);
            Assert.NotNull(builtin.ForwardFlops);
            Assert.NotNull(builtin.CSharp!.Width);
        }

        if (builtin.Kind == BuiltinKind.Encoder && builtin.Has(BuiltinFlags.TakesEncoder))
        {
            Assert.Contains(builtin.EncoderKind, new[] { EncoderKind.Ema, EncoderKind.StopGradient });
        }

        if (builtin.Has(BuiltinFlags.TokenMask) || builtin.Has(BuiltinFlags.TokenMaskOnTokens))
        {
            Assert.NotNull(builtin.TokenCounts);
            Assert.NotNull(builtin.MaskNote);
        }

        if (builtin.Kind == BuiltinKind.Predictor)
        {
            Assert.NotNull(builtin.PredictorShape);
            Assert.NotNull(builtin.ParameterCount);
            Assert.NotNull(builtin.PredictorFlops);
        }
    }

    [Fact]
    public void Names_are_unique_per_kind_and_the_lists_hold_every_entry()
    {
        Assert.Equal(Builtins.All.Count, Builtins.All.Select(b => (b.Kind, b.Name)).Distinct().Count());
        Assert.All(Builtins.All, b => Assert.Same(b, Builtins.Find(b.Kind, b.Name)));
        Assert.All(Builtins.All, b => Assert.Equal(b.Parameters.Count, b.Parameters.Select(p => p.Name).Distinct().Count()));
        Assert.Equal(Enum.GetValues<BuiltinKind>().Order(), Builtins.All.Select(b => b.Kind).Distinct().Order());
        Assert.Equal(Builtins.Devices.Select(d => d.Name), Builtins.TrainSettings["device"].Options!);
    }

    [Fact]
    public void Defaults_lie_within_their_bounds()
    {
        foreach (var parameter in Builtins.All.SelectMany(b => b.Parameters).Concat(Builtins.TrainSettings.Values))
        {
            var numbers = parameter.Default switch
            {
                NumberValue n => [n.Value],
                RangeValue r => [r.Low, r.High],
                ScheduleValue s => [s.Start, s.End],
                ListValue l => l.Items.Select(i => ((NumberValue)i).Value).ToArray(),
                _ => Array.Empty<double>(),
            };
            Assert.All(numbers, n => Assert.True(parameter.Bounds?.Contains(n) ?? true, $"{parameter.Name}'s default {n} is outside {parameter.Bounds?.Describe()}"));
            if (parameter.Default is OptionValue option) Assert.Contains(option.Name, parameter.Options!);
        }
    }
}

/// <summary>Tests that change a catalog entry for their duration: they run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CatalogMutation
{
    public const string Name = "catalog mutation";
}

[Collection(CatalogMutation.Name)]
public class UnmappedEntryTests
{
    [Fact]
    public void A_builtin_without_a_CSharp_member_is_an_internal_error_of_the_emitter_never_another_builtin()
    {
        var compilation = JepaCompiler.Compile("/project/e.jepa", DiagnosticsDoc.Base); // noisy = gaussian_noise(std: 0.1)
        Assert.Empty(compilation.Diagnostics);
        var mapping = typeof(Builtin).GetField("<CSharp>k__BackingField", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var saved = mapping.GetValue(Builtins.GaussianNoise);
        try
        {
            mapping.SetValue(Builtins.GaussianNoise, null);
            var error = Assert.Throws<NotSupportedException>(() => Emit.CSharpEmitter.Emit(compilation, new Emit.EmitOptions()));
            Assert.Contains("corruption gaussian_noise, which has no C# mapping", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            mapping.SetValue(Builtins.GaussianNoise, saved);
        }

        Assert.Contains("new global::Jepa.Runtime.Masks.GaussianNoise(Settings.NoisyGaussianNoiseStd)",
            Emit.CSharpEmitter.Emit(compilation, new Emit.EmitOptions()).Single().Text, StringComparison.Ordinal);
    }
}
