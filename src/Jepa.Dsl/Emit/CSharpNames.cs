using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Spec;
using static Jepa.Dsl.Emit.CSharp;

namespace Jepa.Dsl.Emit;

/// <summary>
/// Every C# name of one experiment's class, decided in one place from its spec's neutral identifiers: the namespace
/// and class, the property of each option (<c>&lt;Owner&gt;&lt;Parameter&gt;</c> in PascalCase, <c>ContextHidden</c>,
/// <c>NoisyFeatureDropoutP</c>), the members holding corruptions and token masks, and the training step's parameter
/// and view locals. Distinct <c>.jepa</c> names can map to one C# name (<c>x_y</c> and <c>xY</c>; an encoder
/// <c>loss</c> with an argument <c>scale</c> and the loss's own <c>LossScale</c>; a base option such as
/// <c>WarmupSteps</c>): each name is checked against those taken before it, in the spec's order, and made unique.
/// </summary>
internal sealed class CSharpNames
{
    /// <summary>Members of the generated class and its base (<c>JepaExperiment</c>) and of <c>object</c>: a member made
    /// from a user's name must not take one. A test checks the list against the runtime's types by reflection.</summary>
    internal static readonly IReadOnlyCollection<string> ReservedMembers = new HashSet<string>(StringComparer.Ordinal)
    {
        "Options", "Settings", "ContextEncoder", "TargetEncoder", "Predictor", "InputShape", "EmbeddingWidth",
        "ParameterCount", "FlopsPerStep", "Corrupt", "Encode", "TrainingStep", "MonitorEmbeddings", "Name", "Device",
        "Train", "Save", "Load", "Dispose", "Register", "InitialOptions", "EffectiveOptions", "StepsTaken",
        "ContextModule", "TargetModule", "PredictorModule", "TargetKind", "InitializationScope", "Equals",
        "GetHashCode", "ToString", "GetType", "MemberwiseClone", "Finalize", "CheckpointFileName", "OptionsFileName",
        "Definition", "Evaluate", "EvaluationMode", "PreviousCheckpointFileName", "PreviousCheckpointPath", "ParameterDigest",
        "ReferenceEquals", "Normalize", "Embed",
    };

    /// <summary>Members of the options record's base (<c>ExperimentOptions</c>) and of records: an option property must
    /// not take one. A test checks the list against the runtime's type by reflection.</summary>
    internal static readonly IReadOnlyCollection<string> BaseOptions = new HashSet<string>(StringComparer.Ordinal)
    {
        "Batch", "Epochs", "Steps", "Seed", "Device", "Optimizer", "LearningRate", "WeightDecay", "Momentum", "Betas",
        "Schedule", "WarmupSteps", "WarmupEpochs", "StartLr", "FinalLr", "GradClip", "EmaMomentum", "Collapse",
        "Evaluation", "Default", "EqualityContract", "Nesterov", "ToJson", "ToJsonObject", "Problems", "Validate", "PrintMembers",
        "Equals", "GetHashCode", "ToString", "GetType", "MemberwiseClone", "Finalize", "ReferenceEquals",
        "Normalization",
    };

    private readonly HashSet<string> _members;
    private readonly HashSet<string> _locals = new(StringComparer.Ordinal) { "masks", "target", "targetOutput", "context", "predicted", "terms", "step", "generator" };
    private readonly HashSet<string> _prefixes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _properties = new(StringComparer.Ordinal);
    private readonly Dictionary<OwnerId, string> _ownerPrefixes = new();
    private readonly Dictionary<OptionId, string> _options = new();
    private readonly Dictionary<string, (string? Input, string? Mask)> _corruptions = new(StringComparer.Ordinal);
    private readonly Dictionary<Side, string> _views = new();

    private CSharpNames(ExperimentSpec spec)
    {
        // A C# keyword in a namespace or class name (namespace e.class; experiment event { ... }) needs an @.
        Namespace = string.Join(".", spec.Namespace.Split('.').Select(segment => segment.Length == 0 ? segment : Identifier(segment)));
        Class = Identifier(spec.Name);
        _members = new HashSet<string>(ReservedMembers, StringComparer.Ordinal) { spec.Name };

        // The prefixes of the fixed owners, then of each link and encoder in the spec's order.
        _prefixes.UnionWith(new[] { "Predictor", "Loss" }.Concat(Builtins.Regularizers.Select(r => Pascal(r.Name))));
        foreach (var corruption in spec.Model.Corruptions)
        {
            foreach (var link in corruption.InputLinks.Concat(corruption.Mask is null ? Enumerable.Empty<LinkSpec>() : new[] { corruption.Mask }).OrderBy(l => l.Owner.Index))
            {
                Prefix(link.Owner);
            }
        }

        Prefix(spec.Model.Context.Owner);
        if (spec.Model.Target is { } target)
        {
            Prefix(target.Owner);
        }

        foreach (var option in spec.Options.SelectMany(g => g.Options))
        {
            var name = Prefix(option.Id.Owner) + Pascal(option.Id.Parameter);
            while (BaseOptions.Contains(name) || _properties.Contains(name))
            {
                name += "Value";
            }

            _properties.Add(name);
            _options[option.Id] = name;
        }

        foreach (var corruption in spec.Model.Corruptions)
        {
            var pascal = Pascal(corruption.Name);
            var input = corruption.InputLinks.Count > 0 ? Unique(pascal, "Corruption", _members) : null;
            var mask = corruption.Mask is null ? null : Identifier(Unique(input is null ? pascal : input + "Mask", "Corruption", _members));
            _corruptions[corruption.Name] = (input is null ? null : Identifier(input), mask);
        }

        // The input's name is the parameter of Corrupt, Encode and the training step.
        Batch = Identifier(Unique(spec.Input.Name, "Batch", _locals, _members));
        foreach (var view in spec.TrainingStep.Steps.OfType<ViewStep>())
        {
            _views[view.Side] = Identifier(Unique(Camel(view.Corruption), "View", _locals, _members));
        }
    }

    public static CSharpNames For(ExperimentSpec spec) => new(spec);

    /// <summary>The namespace, each segment a C# identifier.</summary>
    public string Namespace { get; }

    /// <summary>The class.</summary>
    public string Class { get; }

    /// <summary>The parameter of <c>Corrupt</c>, <c>Encode</c> and the training step.</summary>
    public string Batch { get; }

    /// <summary>The options property of an option.</summary>
    public string Option(OptionId id) =>
        _options.TryGetValue(id, out var name)
            ? name
            : throw new NotSupportedException($"the emitter does not support the option {id.Parameter} of {id.Owner.Name}, which the spec lacks");

    /// <summary>The member holding a corruption's input links, and the one holding its token mask.</summary>
    public (string? Input, string? Mask) Corruption(string name) => _corruptions[name];

    /// <summary>The training step's local holding one side's corrupted view.</summary>
    public string View(Side side) => _views[side];

    /// <summary>The prefix of an owner's options, unique among owners (the fixed owners keep theirs).</summary>
    private string Prefix(OwnerId owner)
    {
        switch (owner.Kind)
        {
            case OwnerKind.Predictor:
                return "Predictor";
            case OwnerKind.Loss:
                return "Loss";
            case OwnerKind.Regularizer:
                return Pascal(owner.Name);
        }

        if (!_ownerPrefixes.TryGetValue(owner, out var prefix))
        {
            // A link: the corruption, the function and, for a repeated function, its count (NoisyGaussianNoise2).
            var occurrence = owner.Occurrence > 1 ? owner.Occurrence.ToString(CultureInfo.InvariantCulture) : string.Empty;
            prefix = owner.Kind == OwnerKind.Link
                ? Unique(Pascal(owner.Name) + Pascal(owner.Function) + occurrence, "Link", _prefixes)
                : Unique(Pascal(owner.Name), "Encoder", _prefixes);
            _ownerPrefixes[owner] = prefix;
        }

        return prefix;
    }

    /// <summary><paramref name="name"/>, or with <paramref name="suffix"/> and then a number, whichever is free in
    /// <paramref name="taken"/> (and in <paramref name="alsoTaken"/>); the result is taken from then on.</summary>
    private static string Unique(string name, string suffix, HashSet<string> taken, HashSet<string>? alsoTaken = null)
    {
        bool Free(string n) => !taken.Contains(n) && alsoTaken?.Contains(n) != true;
        var result = Free(name) ? name : name + suffix;
        for (var i = 2; !Free(result); i++)
        {
            result = name + suffix + i.ToString(CultureInfo.InvariantCulture);
        }

        taken.Add(result);
        return result;
    }

    private static string Camel(string name)
    {
        var pascal = Pascal(name);
        return char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);
    }
}
