using System.Text.RegularExpressions;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Catalog;

namespace Jepa.Dsl.Tests.Catalog;

/// <summary>
/// The catalog's PyTorch column (docs/internals/architecture.md): every entry maps to the runtime package
/// python/jepa_torch, or says why the program has nothing to write for it, or is listed here as not yet supported (an
/// export that needs it is JEPA154, tested in PyTorchEmitterTests); templates name only the entry's option parameters
/// and what the PyTorch emitter provides; and exactly the terms that couple samples say how they see the other processes.
/// </summary>
public class PythonColumnTests
{
    /// <summary>Entries the PyTorch target does not support yet, and why. Adding a mapping removes its line here.</summary>
    private static readonly Dictionary<string, string> NotYet = new()
    {
    };

    /// <summary>The holes the PyTorch emitter fills besides parameters, per kind.</summary>
    private static readonly Dictionary<BuiltinKind, string[]> Provided = new()
    {
        [BuiltinKind.Corruption] = ["grid"],
        [BuiltinKind.Encoder] = ["input_shape", "source", "create"],
        [BuiltinKind.Projector] = ["input_width"],
        [BuiltinKind.Predictor] = ["context_width", "grid"],
        [BuiltinKind.Loss] = ["predicted", "target", "first"],
        [BuiltinKind.Regularizer] = ["z", "z1", "z2", "drawn", "reduce", "width", "generator"],
    };

    public static TheoryData<string> Entries() => CatalogTests.Entries();

    private static Builtin Entry(string key) => Builtins.Find(Enum.Parse<BuiltinKind>(key.Split(' ')[0]), key.Split(' ')[1])!;

    [Theory]
    [MemberData(nameof(Entries))]
    public void Each_entry_maps_to_the_PyTorch_runtime_or_says_why_not(string key)
    {
        var builtin = Entry(key);
        if (NotYet.ContainsKey(key))
        {
            Assert.True(builtin.Python is null, $"{builtin} has a PyTorch mapping now: remove it from {nameof(NotYet)}");
            return;
        }

        var python = builtin.Python;
        Assert.True(python is not null, $"{builtin} has no PyTorch mapping (list it in {nameof(NotYet)} with the reason if that is meant)");
        var templates = new List<string?>();
        switch (builtin.Kind)
        {
            case BuiltinKind.Corruption:
                if (builtin.Has(BuiltinFlags.TokenMask) || builtin.Has(BuiltinFlags.TokenMaskOnTokens)) Assert.NotNull(python.TokenMask);
                if (!builtin.Has(BuiltinFlags.TokenMask)) Assert.NotNull(python.Member);
                templates.AddRange([python.Member, python.TokenMask]);
                break;
            case BuiltinKind.Regularizer:
                Assert.Null(python.Member);
                Assert.All(builtin.Terms, t => Assert.False(t.Python is null, $"{builtin}: the term {t.Name} has no PyTorch call"));
                templates.AddRange(builtin.Terms.Select(t => t.Python));
                templates.Add(python.Draw?.Template);
                break;
            case BuiltinKind.Evaluation or BuiltinKind.Device when python.Member is null:
                Assert.False(string.IsNullOrWhiteSpace(python.Unused), $"{builtin} maps to nothing without saying why");
                break;
            default:
                Assert.True(python.Member is not null, $"{builtin} has no PyTorch member");
                templates.Add(python.Member);
                break;
        }

        var provided = Provided.TryGetValue(builtin.Kind, out var names) ? names : [];
        foreach (var hole in templates.Where(t => t is not null).SelectMany(t => Regex.Matches(t!, "{([^}]*)}").Select(m => m.Groups[1].Value)))
        {
            Assert.True(hole.StartsWith('$') ? provided.Contains(hole[1..]) : builtin.Find(hole) is { IsOption: true },
                $"{builtin}: the hole {{{hole}}} is neither one of its option parameters nor provided by the PyTorch emitter");
        }
    }

    [Theory]
    [MemberData(nameof(Entries))]
    public void Exactly_the_terms_that_couple_samples_say_how_they_see_the_other_processes(string key)
    {
        var builtin = Entry(key);
        if (builtin.Python is not { } python) return;
        var couples = builtin.Has(BuiltinFlags.CouplesSamples);
        Assert.Equal(couples, python.Coupling != PythonCoupling.None);
        Assert.Equal(couples, !string.IsNullOrWhiteSpace(python.CouplingNote));
        if (python.Coupling == PythonCoupling.Reduce)
            Assert.All(builtin.Terms, t => Assert.Contains("{$reduce}", t.Python!, StringComparison.Ordinal));
        if (python.Coupling == PythonCoupling.Gather)
            Assert.All(builtin.Terms, t => Assert.DoesNotContain("{$reduce}", t.Python!, StringComparison.Ordinal));
    }

    [Fact]
    public void Batch_norm_is_the_option_value_that_couples_samples()
    {
        var couplings = Builtins.All.SelectMany(b => b.Parameters).Select(p => p.OptionSet).Where(s => s is not null).Distinct()
            .SelectMany(s => s!.CouplesSamples.Select(c => (Set: s, Name: c.Key))).ToList();
        Assert.All(couplings, c => Assert.Contains(c.Name, c.Set.Names));
        Assert.Equal(["batch"], couplings.Select(c => c.Name).Distinct());
    }
}
