using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Jepa.Dsl.Spec;
using static Jepa.Dsl.Emit.Python;

namespace Jepa.Dsl.Emit;

/// <summary>
/// Every Python name of one experiment's PyTorch program, decided in one place from its spec's neutral identifiers (as
/// <see cref="CSharpNames"/> does for C#): the program's file and class, the constants holding the loss's and the
/// regularizers' values (<c>&lt;OWNER&gt;_&lt;PARAMETER&gt;</c>, <c>LOSS_SCALE</c>, <c>SIGREG_WEIGHT</c>), the
/// attributes holding corruptions and token masks, the keys of the step's random draws, and the parameter that carries
/// the batch. A name from the file that a Python keyword, the program's imports, the runtime's <c>jt.Experiment</c> or
/// the step's own locals already take is made unique, in the spec's order.
/// </summary>
internal sealed class PythonNames
{
    /// <summary>Names the program's module level takes: its imports, <c>OPTIONS</c>.</summary>
    internal static readonly IReadOnlyCollection<string> ModuleNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "importlib", "sys", "Path", "torch", "jepa_torch", "jt", "C", "L", "M", "T", "V", "OPTIONS",
    };

    /// <summary>Attributes of the experiment: <c>jt.Experiment</c>'s and those every program sets.</summary>
    internal static readonly IReadOnlyCollection<string> Members = new HashSet<string>(StringComparer.Ordinal)
    {
        "name", "input_shape", "register", "roles", "target_kind", "named_trainable", "train", "state_dicts", "load_state_dicts",
        "monitor_embeddings", "encode", "draw", "loss_terms", "training_step", "options", "precision", "ddp", "context_encoder",
        "target_encoder", "predictor", "context", "target", "predict",
    };

    /// <summary>The locals and parameters of the program's methods besides the batch.</summary>
    internal static readonly IReadOnlyCollection<string> Locals = new HashSet<string>(StringComparer.Ordinal)
    {
        "self", "g", "part", "drawn", "step", "terms", "masks", "normalized", "target", "target_output", "context", "predicted", "contexts",
        "targets", "target_outputs", "pooled_contexts", "pooled_target_outputs", "pooled_targets",
    };

    private readonly HashSet<string> _module = new(ModuleNames, StringComparer.Ordinal);
    private readonly HashSet<string> _members = new(Members, StringComparer.Ordinal);
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<OptionId, string> _constants = new();
    private readonly Dictionary<string, (string? Input, string? Mask)> _corruptions = new(StringComparer.Ordinal);
    private readonly Dictionary<Side, string> _viewKeys = new();
    private readonly Dictionary<string, string> _groupKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Regularizer, bool Target), string> _drawKeys = new();

    private PythonNames(ExperimentSpec spec)
    {
        Class = Unique(Identifier(spec.Name), "_", _module);
        foreach (var option in spec.Options.SelectMany(g => g.Options).Where(o => o.Id.Owner.Kind is OwnerKind.Loss or OwnerKind.Regularizer))
        {
            var prefix = option.Id.Owner.Kind == OwnerKind.Loss ? "LOSS" : option.Id.Owner.Name.ToUpperInvariant();
            _constants[option.Id] = Unique(prefix + "_" + option.Id.Parameter.ToUpperInvariant(), "_", _module);
        }

        foreach (var corruption in spec.Model.Corruptions)
        {
            var name = Identifier(corruption.Name);
            var input = corruption.InputLinks.Count > 0 ? Unique(name, "_corruption", _members) : null;
            var mask = corruption.Mask is null ? null : Unique(input is null ? name : input + "_mask", "_corruption", _members);
            _corruptions[corruption.Name] = (input, mask);
        }

        if (spec.TrainingStep.Steps.OfType<MaskStep>().Any())
        {
            MasksKey = Unique("masks", "_", _keys);
        }

        foreach (var group in spec.TrainingStep.Steps.OfType<DrawViewsStep>())
        {
            _groupKeys[group.Group] = Unique(group.Group, "_views", _keys);
        }

        foreach (var view in spec.TrainingStep.Steps.OfType<ViewStep>())
        {
            _viewKeys[view.Side] = Unique(view.Corruption, "_view", _keys);
        }

        foreach (var regularizer in spec.TrainingStep.Steps.OfType<LossStep>().SelectMany(l => l.Regularizers))
        {
            if (regularizer.Builtin.Resolve().Python?.Draw is not { } draw)
            {
                continue;
            }

            _drawKeys[(regularizer.Builtin.Name, false)] = Unique($"{regularizer.Builtin.Name}_{draw.Name}", "_", _keys);
            if (regularizer.BothSides)
            {
                _drawKeys[(regularizer.Builtin.Name, true)] = Unique($"{regularizer.Builtin.Name}_target_{draw.Name}", "_", _keys);
            }
        }

        // The input's name is the parameter of encode, draw, loss_terms and training_step.
        var taken = new HashSet<string>(Locals.Concat(_module), StringComparer.Ordinal);
        Batch = Unique(Identifier(spec.Input.Name), "_batch", taken);
        FileName = ProgramFile(spec.Name);
    }

    public static PythonNames For(ExperimentSpec spec) => new(spec);

    /// <summary>The file of an experiment's program: <c>train_</c>, the name in snake case, <c>.py</c>.</summary>
    public static string ProgramFile(string experiment) => $"train_{Snake(experiment)}.py";

    /// <summary>The program's file: <c>train_digits_jepa.py</c> for <c>DigitsJepa</c>.</summary>
    public string FileName { get; }

    /// <summary>The experiment class.</summary>
    public string Class { get; }

    /// <summary>The parameter holding the batch (the input's name).</summary>
    public string Batch { get; }

    /// <summary>The key of the token masks among the step's draws.</summary>
    public string MasksKey { get; } = "masks";

    /// <summary>The module-level constant holding a loss or regularizer option.</summary>
    public string Constant(OptionId id) =>
        _constants.TryGetValue(id, out var name)
            ? name
            : throw new NotSupportedException($"the emitter does not support the option {id.Parameter} of {id.Owner.Name}, which the spec lacks");

    /// <summary>The attributes holding a corruption's input links and its token mask.</summary>
    public (string? Input, string? Mask) Corruption(string name) => _corruptions[name];

    /// <summary>The key of one side's corrupted view among the step's draws.</summary>
    public string ViewKey(Side side) => _viewKeys[side];

    /// <summary>The key of a group's drawn views (<c>views NAME = GROUP * count</c>) among the step's draws.</summary>
    public string GroupKey(string group) => _groupKeys[group];

    /// <summary>The key of a regularizer's draw for the context side, or for the target side.</summary>
    public string DrawKey(string regularizer, bool target) => _drawKeys[(regularizer, target)];

    /// <summary><paramref name="name"/>, or with <paramref name="suffix"/> and then a number, whichever is free in
    /// <paramref name="taken"/> (a <c>__dunder__</c> name never is: Python reserves them); the result is taken from then on.</summary>
    private static string Unique(string name, string suffix, HashSet<string> taken)
    {
        bool Taken(string n) => taken.Contains(n) || (n.Length > 4 && n.StartsWith("__", StringComparison.Ordinal) && n.EndsWith("__", StringComparison.Ordinal));
        var result = Taken(name) ? name + suffix : name;
        for (var i = 2; Taken(result); i++)
        {
            result = name + suffix + i.ToString(CultureInfo.InvariantCulture);
        }

        taken.Add(result);
        return result;
    }
}
