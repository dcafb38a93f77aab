using System;
using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Text;
using static Jepa.Dsl.Emit.CSharp;

namespace Jepa.Dsl.Emit;

/// <summary>
/// Writes the class of one error-free experiment. The layout follows docs/internals/generated-code-contract.md: the
/// options record, shape and cost constants, the typed modules, the constructor, <c>Corrupt</c>, <c>Encode</c> and the
/// numbered training step. Every member carries a back-reference to its <c>.jepa</c> statement.
/// </summary>
internal sealed class ExperimentEmitter
{
    private static readonly HashSet<string> ReservedMembers = new(StringComparer.Ordinal)
    {
        "Options", "Settings", "ContextEncoder", "TargetEncoder", "Predictor", "InputShape", "EmbeddingWidth",
        "ParameterCount", "FlopsPerStep", "Corrupt", "Encode", "TrainingStep", "MonitorEmbeddings", "Name", "Device",
        "Train", "Save", "Load", "Dispose", "Register", "InitialOptions", "EffectiveOptions", "StepsTaken",
        "ContextModule", "TargetModule", "PredictorModule", "TargetKind", "InitializationScope", "Equals",
        "GetHashCode", "ToString", "GetType", "MemberwiseClone", "Finalize", "CheckpointFileName", "OptionsFileName",
        "Definition", "Evaluate", "EvaluationMode", "PreviousCheckpointFileName", "PreviousCheckpointPath", "ParameterDigest",
    };

    private static readonly HashSet<string> BaseOptions = new(StringComparer.Ordinal)
    {
        "Batch", "Epochs", "Steps", "Seed", "Device", "Optimizer", "LearningRate", "WeightDecay", "Momentum", "Betas",
        "Schedule", "WarmupSteps", "WarmupEpochs", "StartLr", "FinalLr", "GradClip", "EmaMomentum", "Collapse",
        "Evaluation", "Default", "EqualityContract",
    };

    private readonly BoundExperiment _e;
    private readonly string _file;
    private readonly string _path;
    private readonly string _namespace;
    private readonly string _class;
    private readonly string _version;
    private readonly IndentedWriter _w = new();
    private readonly BoundPipeline _pipeline;
    private readonly BoundObjective _objective;
    private readonly BoundLoss _loss;
    private readonly BoundEncoder _context;
    private readonly BoundEncoder _target;
    private readonly Binding.TargetKind _kind;
    private readonly BoundCorruption? _contextCorruption;
    private readonly BoundCorruption? _targetCorruption;
    private string _batch = string.Empty;
    private readonly List<OptionGroup> _groups = new();

    /// <summary>Names taken in the class (its members, its base's, its own name) and in the training step (its locals
    /// and the members it uses): each name made from a user's name is checked against them and made unique, since
    /// distinct <c>.jepa</c> names can map to one C# name (<c>x_y</c> and <c>xY</c>, <c>_</c> as a member and a local).</summary>
    private readonly HashSet<string> _members;
    private readonly HashSet<string> _locals = new(StringComparer.Ordinal) { "masks", "target", "targetOutput", "context", "predicted", "terms", "step", "generator" };
    private readonly Dictionary<string, CorruptionMembers> _corruptions = new(StringComparer.Ordinal);

    public ExperimentEmitter(BoundExperiment experiment, string path, string ns, string version)
    {
        _e = experiment;
        _path = path;
        _file = CSharpEmitter.FileName(path);
        // A C# keyword in a namespace or class name (namespace e.class; experiment event { ... }) needs an @.
        _namespace = string.Join(".", ns.Split('.').Select(segment => segment.Length == 0 ? segment : Identifier(segment)));
        _class = Identifier(experiment.Name);
        _version = version;
        _pipeline = experiment.Pipeline!;
        _objective = experiment.Objective!;
        _loss = _objective.Loss!;
        _kind = _objective.TargetKind;
        _target = experiment.TargetEncoder!;
        _context = experiment.ContextEncoder!;
        _contextCorruption = experiment.FindCorruption(_objective.Context.Corruption);
        _targetCorruption = experiment.FindCorruption(_objective.Target.Corruption);
        if (_targetCorruption?.TokenMask is not null)
        {
            throw new NotSupportedException($"a token mask on the target side ({_objective.Target.Source}) is not supported; mask the context side");
        }

        _members = new HashSet<string>(ReservedMembers, StringComparer.Ordinal) { experiment.Name };
    }

    /// <summary><paramref name="name"/>, or with <paramref name="suffix"/> and then a number, whichever is free in
    /// <paramref name="taken"/> (and in <paramref name="alsoTaken"/>); the result is taken from then on.</summary>
    private static string Unique(string name, string suffix, HashSet<string> taken, HashSet<string>? alsoTaken = null)
    {
        bool Free(string n) => !taken.Contains(n) && alsoTaken?.Contains(n) != true;
        var result = Free(name) ? name : name + suffix;
        for (var i = 2; !Free(result); i++)
        {
            result = name + suffix + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        taken.Add(result);
        return result;
    }

    private bool Masked => _pipeline.Mode == RepresentationMode.MaskedTokens;

    private bool Tokens => _pipeline.Mode != RepresentationMode.Vector;

    private bool TargetTrainable => _kind is Binding.TargetKind.Shared or Binding.TargetKind.Independent;

    public string Emit()
    {
        CollectOptions();
        // The input's name is the parameter of Corrupt, Encode and the training step.
        _batch = Identifier(Unique(_e.Input!.Name, "Batch", _locals, _members));
        _w.Line("// <auto-generated/>");
        _w.Line($"// Generated by Jepa.Generators {_version} from {_file}. Edit the .jepa file, not this one.");
        _w.Line("#nullable enable");
        _w.Line();
        if (_namespace.Length > 0)
        {
            _w.Line($"namespace {_namespace};");
            _w.Line();
        }

        WriteClassDocumentation();
        _w.Line($"[global::System.CodeDom.Compiler.GeneratedCode(\"Jepa.Generators\", \"{_version}\")]");
        using (_w.Block($"public sealed partial class {_class} : {Runtime}.Training.JepaExperiment"))
        {
            WriteOptions();
            _w.Line();
            WriteConstants();
            _w.Line();
            WriteMembers();
            _w.Line();
            WriteConstructor();
            _w.Line();
            WriteCorrupt();
            _w.Line();
            WriteEncode();
            if (Tokens)
            {
                _w.Line();
                WriteMonitorEmbeddings();
            }

            _w.Line();
            WriteTrainingStep();
        }

        return _w.ToString();
    }

    // ---- back-references and documentation ------------------------------------------------------------------------

    private string At(SourceSpan span) => $"{_file}({span.StartLine + 1},{span.StartColumn + 1})";

    private void WriteClassDocumentation()
    {
        _w.Line($"/// <summary>Experiment <c>{_e.Name}</c> ({At(_e.NameSpan)}).</summary>");
        _w.Line("/// <remarks>");
        _w.Line("/// Shapes (batch dimension B first):");
        _w.Line("/// <code>");
        foreach (var stage in _pipeline.Stages)
        {
            _w.Line($"/// {Xml(stage.Stage)}: {Batched(stage.Input)} -> {Batched(stage.Output)}   {Xml(stage.Description)}");
        }

        _w.Line("/// </code>");
        if (_e.Cost is { } cost)
        {
            foreach (var module in cost.Modules)
            {
                var count = module.Parameters is { } p ? Grouped(p) : "unknown";
                _w.Line($"/// Parameters of the {Xml(module.Role)}: {count} ({Xml(module.Note)}).<br/>");
            }

            if (cost.FlopsPerStep is { } flops)
            {
                _w.Line($"/// FLOPs per training step at batch {cost.Batch}: {Grouped(flops)} (matrix products, forward and backward; docs/models.md).");
            }
        }

        _w.Line("/// </remarks>");
    }

    // ---- options --------------------------------------------------------------------------------------------------

    private sealed record OptionProperty(string Name, string Type, string Value, string Doc);

    private sealed record OptionGroup(string Comment, List<OptionProperty> Properties);

    private sealed record CorruptionMembers(string? Input, string? Mask, string InputType, string MaskType);

    /// <summary>
    /// The prefix of each owner of options (a corruption link, an encoder, the predictor, the loss, a regularizer),
    /// unique among owners, and the property each (prefix, parameter) got: distinct <c>.jepa</c> names can give one C#
    /// name (an encoder <c>loss</c> with a C# argument <c>scale</c> and the loss's own weight, <c>LossScale</c>; or an
    /// encoder <c>warmup</c> with <c>steps</c> and the base option <c>WarmupSteps</c>), and <see cref="Setting"/> must
    /// read the property that <see cref="OptionName"/> made. The fixed owners keep their prefixes.
    /// </summary>
    private readonly Dictionary<string, string> _ownerPrefixes = Builtins.Regularizers.ToDictionary(r => r.Name, r => Pascal(r.Name), StringComparer.Ordinal)
        .Concat(new Dictionary<string, string> { ["predictor"] = "Predictor", ["loss"] = "Loss" })
        .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private readonly HashSet<string> _prefixes = new(new[] { "Predictor", "Loss" }.Concat(Builtins.Regularizers.Select(r => Pascal(r.Name))), StringComparer.Ordinal);

    private readonly Dictionary<(string Prefix, string Parameter), string> _optionNames = new();

    private string Prefix(string owner, string wanted, string suffix)
    {
        if (!_ownerPrefixes.TryGetValue(owner, out var prefix))
        {
            prefix = Unique(wanted, suffix, _prefixes);
            _ownerPrefixes[owner] = prefix;
        }

        return prefix;
    }

    private string EncoderPrefix(BoundEncoder encoder) => Prefix("encoder " + encoder.Name, Pascal(encoder.Name), "Encoder");

    /// <summary>The prefix of each link of a corruption: name, function and, for a repeated function, its count.</summary>
    private List<string> LinkPrefixes(BoundCorruption corruption)
    {
        var prefix = Pascal(corruption.Name);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var prefixes = new List<string>();
        for (var i = 0; i < corruption.Links.Count; i++)
        {
            var link = corruption.Links[i];
            var function = link.Call.Function;
            seen[function] = seen.TryGetValue(function, out var count) ? count + 1 : 1;
            var wanted = prefix + Pascal(function) + (seen[function] > 1 ? seen[function].ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Empty);
            prefixes.Add(Prefix($"corruption {corruption.Name} {i}", wanted, "Link"));
        }

        return prefixes;
    }

    private string OptionName(string prefix, string parameter)
    {
        var name = prefix + Pascal(parameter);
        while (BaseOptions.Contains(name) || _groups.Any(g => g.Properties.Any(p => p.Name == name)))
        {
            name += "Value";
        }

        _optionNames[(prefix, parameter)] = name;
        return name;
    }

    private OptionGroup Group(string source, SourceSpan span)
    {
        var group = new OptionGroup($"// {Comment(source)}   {At(span)}", new List<OptionProperty>());
        _groups.Add(group);
        return group;
    }

    private static void Add(OptionGroup group, string name, string type, string value, string doc) => group.Properties.Add(new OptionProperty(name, type, value, doc));

    /// <summary>The documentation of an option property: which parameter of which call, and where.</summary>
    private string Doc(string parameter, string function, SourceSpan span) => $"<c>{Xml(parameter)}</c> of <c>{Xml(function)}</c> ({At(span)}).";

    private void CollectOptions()
    {
        foreach (var corruption in _e.Corruptions.Where(c => c.IsUsed && IsReferenced(c.Name)))
        {
            CollectCorruption(corruption);
        }

        CollectEncoder(_context);
        if (_kind == Binding.TargetKind.Independent)
        {
            CollectEncoder(_target);
        }

        CollectPredictor();
        CollectObjective();
    }

    private bool IsReferenced(string corruption) => _objective.Context.Corruption == corruption || _objective.Target.Corruption == corruption;

    private void CollectCorruption(BoundCorruption corruption)
    {
        var group = Group(corruption.Source, corruption.Span);
        var linkPrefixes = LinkPrefixes(corruption);
        for (var i = 0; i < corruption.Links.Count; i++)
        {
            var link = corruption.Links[i];
            var linkPrefix = linkPrefixes[i];
            foreach (var argument in link.Call.Arguments)
            {
                Add(group, OptionName(linkPrefix, argument.Name), ArgumentType(link.Call, argument), ArgumentValue(link.Call, argument), Doc(argument.Name, link.Call.Function, corruption.Span));
            }
        }

        var name = Pascal(corruption.Name);
        var hasInput = corruption.InputLinks.Count > 0;
        var mask = corruption.TokenMask;
        var maskType = mask is null ? string.Empty : CSharpTemplate.ConstructedType(Mapping(mask.Builtin).TokenMask!);
        var input = hasInput ? Unique(name, "Corruption", _members) : null;
        _corruptions[corruption.Name] = new CorruptionMembers(
            input is null ? null : Identifier(input),
            mask is null ? null : Identifier(Unique(input is null ? name : input + "Mask", "Corruption", _members)),
            $"{Runtime}.Masks.ICorruption",
            maskType);
    }

    private void CollectEncoder(BoundEncoder encoder)
    {
        var group = Group(encoder.Source, encoder.Span);
        var prefix = EncoderPrefix(encoder);
        if (encoder.Kind == EncoderKind.Custom)
        {
            foreach (var argument in encoder.Custom!.Arguments)
            {
                var (type, value) = CustomValue(argument.Value, argument.Name);
                Add(group, OptionName(prefix, argument.Name), type, value, Doc(argument.Name, encoder.Custom.TypeName, encoder.Span));
            }

            return;
        }

        var call = encoder.Call!;
        foreach (var argument in call.Arguments)
        {
            Add(group, OptionName(prefix, argument.Name), ArgumentType(call, argument), ArgumentValue(call, argument), Doc(argument.Name, $"encoder {encoder.Name} = {call.Function}", encoder.Span));
        }
    }

    private void CollectPredictor()
    {
        var predictor = _e.Predictor;
        if (predictor.IsIdentity || predictor.Call is null)
        {
            return;
        }

        var span = predictor.Span ?? _e.NameSpan;
        var group = Group(predictor.Source ?? "predictor", span);
        foreach (var argument in predictor.Call.Arguments)
        {
            Add(group, OptionName("Predictor", argument.Name), ArgumentType(predictor.Call, argument), ArgumentValue(predictor.Call, argument), Doc(argument.Name, $"predictor = {predictor.Call.Function}", span));
        }

        if (predictor.Builtin?.Find("out") is not null && predictor.Call.Find("out") is null)
        {
            Add(group, OptionName("Predictor", "out"), "int", Integer(predictor.Out ?? _pipeline.Target.Width ?? 0),
                $"<c>out</c> of <c>predictor = mlp</c>: not written, the target's width ({At(span)}).");
        }
    }

    private void CollectObjective()
    {
        var group = Group($"loss {_loss.Source}", _loss.Span);
        foreach (var argument in _loss.Call.Arguments.Where(a => _loss.Builtin!.Find(a.Name)!.IsOption))
        {
            Add(group, OptionName("Loss", argument.Name), ArgumentType(_loss.Call, argument), ArgumentValue(_loss.Call, argument), Doc(argument.Name, "loss " + _loss.Call.Function, _loss.Span));
        }

        Add(group, OptionName("Loss", "scale"), "double", Number(_loss.Weight), $"The weight of the loss term (<c>* w</c>, 1 if not written; {At(_loss.Span)}).");
        foreach (var regularizer in _objective.Regularizers)
        {
            var regularizerGroup = Group($"regularize {regularizer.Source}", regularizer.Span);
            var prefix = Prefix(regularizer.Call.Function, Pascal(regularizer.Call.Function), "Regularizer");
            foreach (var argument in regularizer.Call.Arguments)
            {
                Add(regularizerGroup, OptionName(prefix, argument.Name), ArgumentType(regularizer.Call, argument), ArgumentValue(regularizer.Call, argument), Doc(argument.Name, "regularize " + regularizer.Call.Function, regularizer.Span));
            }

            Add(regularizerGroup, OptionName(prefix, "scale"), "double", Number(regularizer.Weight), $"The weight of the <c>{Xml(regularizer.Call.Function)}</c> term (<c>* w</c>, 1 if not written; {At(regularizer.Span)}).");
        }
    }

    private static string ArgumentType(BoundCall call, BoundArgument argument) => argument.Type switch
    {
        ParameterType.Integer => "int",
        ParameterType.Number => "double",
        ParameterType.IntegerList => "global::System.Collections.Generic.IReadOnlyList<int>",
        ParameterType.NumberList => "global::System.Collections.Generic.IReadOnlyList<double>",
        ParameterType.Range => "(double Min, double Max)",
        ParameterType.NumberOrSchedule => $"{Runtime}.Schedules.Ramp",
        ParameterType.Boolean => "bool",
        ParameterType.Option => OptionEnum(call, argument),
        _ => throw Unsupported($"the type of {argument.Name}"),
    };

    private static string ArgumentValue(BoundCall call, BoundArgument argument) => argument.Value switch
    {
        NumberValue n when argument.Type == ParameterType.Integer => Integer((long)n.Value),
        NumberValue n when argument.Type == ParameterType.NumberOrSchedule => $"new {Runtime}.Schedules.Ramp({Number(n.Value)})",
        NumberValue n => Number(n.Value),
        ScheduleValue s => $"new {Runtime}.Schedules.Ramp({Number(s.Start)}, {Number(s.End)})",
        RangeValue r => Pair((r.Low, r.High)),
        ListValue l when argument.Type == ParameterType.IntegerList => IntList(l.Items.Select(i => (int)((NumberValue)i).Value)),
        ListValue l => NumberList(l.Items.Select(i => ((NumberValue)i).Value)),
        BooleanValue b => Bool(b.Value),
        OptionValue o => OptionEnum(call, argument) + "." + Pascal(o.Name),
        _ => throw Unsupported($"the value of {argument.Name}"),
    };

    private static (string Type, string Value) CustomValue(BoundValue value, string name) => value switch
    {
        NumberValue { IsInteger: true } n => ("int", Integer((long)n.Value)),
        NumberValue n => ("double", Number(n.Value)),
        BooleanValue b => ("bool", Bool(b.Value)),
        ListValue l when l.Items.All(i => i is NumberValue { IsInteger: true }) =>
            ("global::System.Collections.Generic.IReadOnlyList<int>", IntList(l.Items.Select(i => (int)((NumberValue)i).Value))),
        ListValue l when l.Items.All(i => i is NumberValue) =>
            ("global::System.Collections.Generic.IReadOnlyList<double>", NumberList(l.Items.Select(i => ((NumberValue)i).Value))),
        _ => throw Unsupported($"the value of {name}"),
    };

    /// <summary>The C# enum of an option parameter, from the catalog.</summary>
    private static string OptionEnum(BoundCall call, BoundArgument argument) =>
        call.Builtin?.Find(argument.Name)?.OptionSet?.CSharp ?? throw Unsupported($"the option parameter {argument.Name} of {call.Function}");

    /// <summary>A built-in's C# mapping; an entry without one is an internal error (a test checks every entry).</summary>
    private static CSharpMember Mapping(Builtin? builtin) =>
        builtin?.CSharp ?? throw Unsupported(builtin is null ? "an unknown built-in" : $"{builtin}, which has no C# mapping");

    private static NotSupportedException Unsupported(string what) => new($"the emitter does not support {what}");

    private string Setting(string prefix, string parameter) =>
        "Settings." + (_optionNames.TryGetValue((prefix, parameter), out var name) ? name : throw Unsupported($"the option {parameter} of {prefix}, which was not collected"));

    /// <summary>The C# of a catalog template for a call whose arguments are options with <paramref name="prefix"/>:
    /// an absent optional parameter is <c>null</c>; <paramref name="provided"/> fills the <c>{$name}</c> holes.</summary>
    private string Expand(string template, BoundCall call, string prefix, Func<string, string>? provided = null) =>
        CSharpTemplate.Expand(template, hole => hole.StartsWith("$", StringComparison.Ordinal)
            ? provided?.Invoke(hole.Substring(1)) ?? throw Unsupported($"the hole {{{hole}}} in {template}")
            : call.Find(hole) is null ? "null" : Setting(prefix, hole));

    /// <summary>The C# of a catalog template for a train-level call, its arguments written as literals.</summary>
    private static string Literal(string template, BoundCall call) =>
        CSharpTemplate.Expand(template, hole => call.Find(hole) is { } argument
            ? argument.Type == ParameterType.Option ? ArgumentValue(call, argument) : ArgumentValue(call, argument)
            : throw Unsupported($"the hole {{{hole}}} in {template}"));

    private void WriteOptions()
    {
        var train = _e.Train!;
        _w.Line($"/// <summary>Every value of {_file}; change one with <c>Options.Default with {{ ... }}</c>.</summary>");
        using (_w.Block($"public sealed record Options : {Runtime}.Training.ExperimentOptions"))
        {
            _w.Line("/// <summary>The values written in the file.</summary>");
            _w.Line("public static Options Default { get; } = new();");
            _w.Line();
            _w.Line("/// <summary>Sets the train, evaluate and monitor values of the file.</summary>");
            using (_w.Block("public Options()"))
            {
                WriteTrainOptions(train);
                WriteEvaluateOptions();
                WriteMonitorOptions();
            }

            foreach (var group in _groups.Where(g => g.Properties.Count > 0))
            {
                _w.Line();
                _w.Line(group.Comment);
                foreach (var property in group.Properties)
                {
                    _w.Line($"/// <summary>{property.Doc}</summary>");
                    _w.Line($"public {property.Type} {property.Name} {{ get; init; }} = {property.Value};");
                }
            }
        }
    }

    private void WriteTrainOptions(BoundTrain train)
    {
        _w.Line($"// train   {At(train.Span)}");
        var optimizer = train.OptimizerCall!;
        _w.Line($"Optimizer = {Mapping(train.Optimizer).Member};");
        _w.Line($"LearningRate = {Ramp(train.LearningRate!.Value)};");
        if (train.WeightDecay is { } decay)
        {
            _w.Line($"WeightDecay = {Ramp(decay)};");
        }

        if (optimizer.GetNumberList("betas") is { Count: 2 } betas)
        {
            _w.Line($"Betas = ({Number(betas[0])}, {Number(betas[1])});");
        }

        if (optimizer.GetNumber("momentum") is { } momentum)
        {
            _w.Line($"Momentum = {Number(momentum)};");
        }

        if (optimizer.GetBool("nesterov") is { } nesterov)
        {
            _w.Line($"Nesterov = {Bool(nesterov)};");
        }

        _w.Line($"Schedule = {Mapping(train.Schedule).Member};");
        if (train.WarmupEpochs is { } epochs)
        {
            _w.Line($"WarmupEpochs = {Integer(epochs)};");
        }
        else if (train.WarmupSteps is { } warmup)
        {
            _w.Line($"WarmupSteps = {Integer(warmup)};");
        }

        if (train.ScheduleCall?.GetNumber("start_lr") is { } startLr)
        {
            _w.Line($"StartLr = {Number(startLr)};");
        }

        if (train.ScheduleCall?.GetNumber("final_lr") is { } finalLr)
        {
            _w.Line($"FinalLr = {Number(finalLr)};");
        }

        _w.Line($"Batch = {Integer(train.Batch)};");
        if (train.Steps is { } steps)
        {
            _w.Line($"Steps = {Integer(steps)};");
        }
        else
        {
            _w.Line($"Epochs = {Integer(train.Epochs ?? 1)};");
        }

        _w.Line($"Seed = {Integer(train.Seed)};");
        _w.Line($"Device = {String(Mapping(train.Device).Member!)};");
        if (train.Clip is { } clip)
        {
            _w.Line($"GradClip = {Number(clip)};");
        }

        if (_kind == Binding.TargetKind.Ema && _target.Call?.GetRamp("momentum") is { } ema)
        {
            _w.Line($"// {Comment(_target.Source)}   {At(_target.Span)}");
            _w.Line($"EmaMomentum = {Ramp(ema)};");
        }
    }

    private static string Ramp((double Start, double End) ramp) =>
        ramp.Start == ramp.End
            ? $"new {Runtime}.Schedules.Ramp({Number(ramp.Start)})"
            : $"new {Runtime}.Schedules.Ramp({Number(ramp.Start)}, {Number(ramp.End)})";

    private void WriteEvaluateOptions()
    {
        var evaluate = _e.Evaluate;
        if (evaluate.Span is not { } span)
        {
            return;
        }

        _w.Line($"// evaluate   {At(span)}");
        _w.Line($"Evaluation = new {Runtime}.Evaluation.EvaluationOptions");
        _w.Line("{");
        using (_w.Indented())
        {
            foreach (var item in Builtins.Evaluations.Select(b => evaluate.Items.FirstOrDefault(i => i.Builtin == b)).Where(i => i is not null))
            {
                _w.Line(Literal(Mapping(item!.Builtin).Member!, item) + ",");
            }
        }

        _w.Line("};");
    }

    private void WriteMonitorOptions()
    {
        foreach (var item in Builtins.Monitors.Select(b => _e.Monitor.Items.FirstOrDefault(i => i.Builtin == b)).Where(i => i is not null))
        {
            _w.Line($"// monitor   {At(item!.Span)}");
            _w.Line(Literal(Mapping(item.Builtin).Member!, item) + ";");
        }
    }

    // ---- constants and members ------------------------------------------------------------------------------------

    private void WriteConstants()
    {
        var input = _e.Input!;
        _w.Line($"/// <summary><c>{Xml(input.Source)}</c> ({At(input.Span)}): the shape of one sample, without the batch dimension.</summary>");
        _w.Line($"public static global::System.ReadOnlySpan<long> InputShape => {IntList(input.Shape.Dims.Select(d => d.Size))};");
        _w.Line();
        _w.Line("/// <summary>This experiment for tools (the runner, the <c>jepa</c> command): name, input shape, the file's options and a factory.</summary>");
        _w.Line($"public static {Runtime}.Training.ExperimentDefinition Definition {{ get; }} =");
        using (_w.Indented())
        {
            _w.Line($"new({String(_e.Name)}, {IntList(input.Shape.Dims.Select(d => d.Size))}, Options.Default, options => new {_class}((Options)options));");
        }

        if (_pipeline.EmbeddingWidth is { } width)
        {
            _w.Line();
            _w.Line($"/// <summary>Width of the representation that <see cref=\"Encode\"/> returns{(Tokens ? " (the mean over tokens)" : string.Empty)}.</summary>");
            _w.Line($"public const int EmbeddingWidth = {Integer(width)};");
        }

        if (_e.Cost is { } cost)
        {
            if (cost.TrainableParameters is { } trainable)
            {
                _w.Line();
                var parts = cost.Modules.Where(m => m.Trainable && m.Parameters is > 0).Select(m => $"{m.Role} {Grouped(m.Parameters!.Value)}");
                _w.Line($"/// <summary>Trainable parameters ({string.Join(" + ", parts)}).</summary>");
                _w.Line($"public const long ParameterCount = {Integer(trainable)};");
            }

            if (cost.FlopsPerStep is { } flops)
            {
                _w.Line();
                _w.Line($"/// <summary>Matrix-product FLOPs of one training step at batch {cost.Batch}, forward and backward (docs/models.md).</summary>");
                _w.Line($"public const long FlopsPerStep = {Integer(flops)};");
            }
        }
    }

    private string ModuleType(BoundEncoder encoder) => encoder.Kind switch
    {
        EncoderKind.Module => CSharpTemplate.ConstructedType(Mapping(encoder.Builtin).Member!),
        EncoderKind.Custom => "global::" + encoder.Custom!.TypeName,
        _ => throw Unsupported($"the encoder kind {encoder.Kind}"),
    };

    private string PredictorType => CSharpTemplate.ConstructedType(Mapping(_e.Predictor.Builtin).Member!);

    private string TargetDescription => _kind switch
    {
        Binding.TargetKind.Ema => "the EMA copy of the context encoder",
        Binding.TargetKind.StopGradient => "the context encoder, run without gradient",
        Binding.TargetKind.Shared => "the context encoder itself (shared weights)",
        _ => "a second trainable encoder",
    };

    private void WriteMembers()
    {
        _w.Line("/// <summary>The options this instance was built with.</summary>");
        _w.Line("public Options Settings { get; }");
        _w.Line();
        _w.Line($"/// <summary><c>{Xml(_context.Source)}</c> ({At(_context.Span)}): the context encoder.</summary>");
        _w.Line($"public {ModuleType(_context)} ContextEncoder {{ get; }}");
        _w.Line();
        _w.Line($"/// <summary><c>{Xml(_target.Source)}</c> ({At(_target.Span)}): {TargetDescription}.</summary>");
        if (_kind is Binding.TargetKind.Ema or Binding.TargetKind.Independent)
        {
            _w.Line($"public {ModuleType(_kind == Binding.TargetKind.Ema ? _context : _target)} TargetEncoder {{ get; }}");
        }
        else
        {
            _w.Line($"public {ModuleType(_context)} TargetEncoder => ContextEncoder;");
        }

        _w.Line();
        var predictor = _e.Predictor;
        var predictorSource = predictor.IsDeclared && predictor.Span is { } predictorSpan
            ? $"<c>{Xml(predictor.Source)}</c> ({At(predictorSpan)})"
            : "No predictor: the identity";
        _w.Line($"/// <summary>{predictorSource}.</summary>");
        _w.Line($"public {PredictorType} Predictor {{ get; }}");
        foreach (var corruption in _e.Corruptions)
        {
            if (!_corruptions.TryGetValue(corruption.Name, out var members))
            {
                continue;
            }

            if (members.Input is { } inputMember)
            {
                _w.Line();
                _w.Line($"/// <summary><c>{Xml(corruption.Source)}</c> ({At(corruption.Span)}){(members.Mask is null ? string.Empty : ": the links before the token mask")}.</summary>");
                _w.Line($"public {members.InputType} {inputMember} {{ get; }}");
            }

            if (members.Mask is { } maskMember)
            {
                _w.Line();
                _w.Line($"/// <summary><c>{Xml(corruption.TokenMask!.Source)}</c> ({At(corruption.TokenMask.Span)}): the token mask, sampled once per batch.</summary>");
                _w.Line($"public {members.MaskType} {maskMember} {{ get; }}");
            }
        }
    }

    // ---- constructor ----------------------------------------------------------------------------------------------

    private string Construct(BoundEncoder encoder)
    {
        var prefix = EncoderPrefix(encoder);
        switch (encoder.Kind)
        {
            case EncoderKind.Module:
                return Expand(Mapping(encoder.Builtin).Member!, encoder.Call!, prefix, hole => hole == "input_shape" ? "InputShape" : null!);
            case EncoderKind.Custom:
                var arguments = encoder.Custom!.Arguments.Select(a => $"{Identifier(a.Name)}: {Setting(prefix, a.Name)}");
                return $"new {ModuleType(encoder)}({string.Join(", ", arguments)})";
            default:
                throw Unsupported($"the encoder kind {encoder.Kind}");
        }
    }

    /// <summary>The width of the context encoder's output, read from the module so that changed options stay consistent.</summary>
    private string ContextWidth => _context.Kind == EncoderKind.Module
        ? CSharpTemplate.Expand(Mapping(_context.Builtin).Width!, hole => hole == "$module" ? "ContextEncoder" : throw Unsupported($"the hole {{{hole}}}"))
        : Integer(_context.Output.Width ?? 0);

    private void WriteConstructor()
    {
        _w.Line("/// <summary>Builds the modules with <paramref name=\"options\"/> (the file's values by default); the same options give the same initial weights.</summary>");
        using (_w.Block($"public {_class}(Options? options = null) : base({String(_e.Name)}, options ?? Options.Default)"))
        {
            _w.Line("Settings = options ?? Options.Default;");
            _w.Line("// Modules are created in a fixed order under the run seed.");
            _w.Line("using var init = InitializationScope();");
            WriteModuleAssignment("ContextEncoder", _context, Construct(_context));
            switch (_kind)
            {
                case Binding.TargetKind.Ema:
                    WriteModuleAssignment("TargetEncoder", _context, CSharpTemplate.Expand(Mapping(_target.Builtin).Member!,
                        hole => hole switch { "$source" => "ContextEncoder", "$create" => Construct(_context), _ => throw Unsupported($"the hole {{{hole}}}") }));
                    break;
                case Binding.TargetKind.Independent:
                    WriteModuleAssignment("TargetEncoder", _target, Construct(_target));
                    break;
            }

            _w.Line($"Predictor = {ConstructPredictor()};");
            foreach (var corruption in _e.Corruptions)
            {
                if (_corruptions.TryGetValue(corruption.Name, out var members))
                {
                    WriteCorruption(corruption, members);
                }
            }

            var kind = _kind switch
            {
                Binding.TargetKind.Ema => "Ema",
                Binding.TargetKind.StopGradient => "StopGradient",
                Binding.TargetKind.Shared => "Shared",
                _ => "Independent",
            };
            _w.Line($"Register(context: ContextEncoder, target: TargetEncoder, targetKind: {Runtime}.Training.TargetKind.{kind}, predictor: Predictor);");
        }
    }

    /// <summary>Assigns a module; a C# type named in the file gets a <c>#line</c> directive so that a compiler error in
    /// its construction is reported at the type name in the <c>.jepa</c> file.</summary>
    private void WriteModuleAssignment(string member, BoundEncoder encoder, string expression)
    {
        if (encoder.Kind != EncoderKind.Custom)
        {
            _w.Line($"{member} = {expression};");
            return;
        }

        var span = encoder.Custom!.TypeNameSpan;
        var line = $"{member} = {expression};";
        var column = 8 + line.IndexOf("global::", StringComparison.Ordinal) + 1;
        _w.Directive($"#line ({span.StartLine + 1}, {span.StartColumn + 1}) - ({span.EndLine + 1}, {span.EndColumn + 1}) {column} {String(_path)}");
        _w.Line(line);
        _w.Directive("#line default");
    }

    private string ConstructPredictor()
    {
        var predictor = _e.Predictor;
        var call = predictor.Call ?? new BoundCall(predictor.Builtin!.Name, default, EquatableArrayEmpty, false, predictor.Builtin);
        return Expand(Mapping(predictor.Builtin).Member!, call, "Predictor", hole => hole switch
        {
            "context_width" => ContextWidth,
            "grid" => _pipeline.Grid is { } grid ? $"({Integer(grid.Height)}, {Integer(grid.Width)})" : throw Unsupported("a predictor that needs a token grid, without one"),
            _ => null!,
        });
    }

    private static readonly Jepa.Dsl.Collections.EquatableArray<BoundArgument> EquatableArrayEmpty = Jepa.Dsl.Collections.EquatableArray<BoundArgument>.Empty;

    private void WriteCorruption(BoundCorruption corruption, CorruptionMembers members)
    {
        var prefixes = LinkPrefixes(corruption);
        var inputs = new List<string>();
        string? mask = null;
        for (var i = 0; i < corruption.Links.Count; i++)
        {
            var link = corruption.Links[i];
            var p = prefixes[i];
            var grid = _pipeline.Grid is { } g ? $"({Integer(g.Height)}, {Integer(g.Width)})" : "(0, 0)";
            var mapping = Mapping(link.Builtin);
            var template = (link.IsTokenMask ? mapping.TokenMask : mapping.Member) ?? throw Unsupported($"the corruption {link.Source} as {(link.IsTokenMask ? "a token mask" : "an input corruption")}");
            var expression = Expand(template, link.Call, p, hole => hole == "grid" ? grid : null!);
            if (link.IsTokenMask)
            {
                mask = expression;
            }
            else
            {
                inputs.Add(expression);
            }
        }

        if (members.Input is { } input)
        {
            if (inputs.Count == 1)
            {
                _w.Line($"{input} = {inputs[0]};");
            }
            else
            {
                _w.Line($"{input} = {Runtime}.Masks.Corruptions.Compose(");
                using (_w.Indented())
                {
                    for (var i = 0; i < inputs.Count; i++)
                    {
                        _w.Line(inputs[i] + (i < inputs.Count - 1 ? "," : ");"));
                    }
                }
            }
        }

        if (members.Mask is { } maskMember)
        {
            _w.Line($"{maskMember} = {mask};");
        }
    }

    // ---- Corrupt, Encode ------------------------------------------------------------------------------------------

    private string? ContextInputMember => _contextCorruption is null ? null : _corruptions[_contextCorruption.Name].Input;

    private void WriteCorrupt()
    {
        if (ContextInputMember is { } member)
        {
            var lead = _contextCorruption!.TokenMask is null ? string.Empty : " before the token mask";
            _w.Line($"/// <summary>The context view: {Xml(_objective.Context.Source)}{lead} ({At(_objective.Context.Span)}).</summary>");
            _w.Line($"public override {Tensor} Corrupt({Tensor} {_batch}, {Generator} generator)");
            using (_w.Indented())
            {
                _w.Line($"=> {member}.Apply({_batch}, generator);");
            }
        }
        else
        {
            var why = _contextCorruption is null ? "the context side sees the input as it is" : "the context side only masks tokens, which happens inside the training step";
            _w.Line($"/// <summary>The context view ({At(_objective.Context.Span)}): {why}.</summary>");
            _w.Line($"public override {Tensor} Corrupt({Tensor} {_batch}, {Generator} generator)");
            using (_w.Indented())
            {
                _w.Line($"=> {_batch}.alias();");
            }
        }
    }

    private string EncodeModule => _kind is Binding.TargetKind.Ema or Binding.TargetKind.Independent ? "TargetEncoder" : "ContextEncoder";

    private string EncodeDescription => _kind switch
    {
        Binding.TargetKind.Ema => "the EMA target encoder's output",
        Binding.TargetKind.Independent => "the target encoder's output",
        _ => "the context encoder's output",
    };

    private Shape FullOutput => (_kind == Binding.TargetKind.Independent ? _target : _context).Output;

    private void WriteEncode()
    {
        var input = Batched(_e.Input!.Shape);
        var full = Batched(FullOutput);
        var pooled = Tokens ? $" -> (B, {_pipeline.EmbeddingWidth?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}) (mean over tokens)" : string.Empty;
        _w.Line($"/// <summary>The representation evaluation uses: {EncodeDescription}, {input} -> {full}{pooled}.</summary>");
        using (_w.Block($"public override {Tensor} Encode({Tensor} {_batch})"))
        {
            _w.Line($"using var noGrad = {Torch}.no_grad();");
            _w.Line(Tokens
                ? $"return {Runtime}.Models.Tokens.MeanPool({EncodeModule}.forward({_batch}));"
                : $"return {EncodeModule}.forward({_batch});");
        }
    }

    private void WriteMonitorEmbeddings()
    {
        _w.Line($"/// <summary>The collapse monitor reads every token as a sample, {Batched(FullOutput)} -> (B N, D): mean-pooled tokens look collapsed even at random initialisation.</summary>");
        using (_w.Block($"protected override {Tensor} MonitorEmbeddings({Tensor} {_batch})"))
        {
            _w.Line($"using var noGrad = {Torch}.no_grad();");
            _w.Line($"return {EncodeModule}.forward({_batch}).flatten(0, 1);");
        }
    }

    // ---- the training step ----------------------------------------------------------------------------------------

    private int _step;

    private string Next() => (++_step).ToString(System.Globalization.CultureInfo.InvariantCulture) + ".";

    /// <summary>A new local of the training step for a view made by corruption <paramref name="name"/>.</summary>
    private string Local(string name) => Identifier(Unique(Camel(name), "View", _locals, _members));

    private static string Camel(string name)
    {
        var pascal = Pascal(name);
        return char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);
    }

    private bool RegularizersNeedTargetOutput =>
        _objective.Regularizers.Any(r => r.Builtin!.Has(BuiltinFlags.PairsSides) || TargetTrainable);

    private void WriteTrainingStep()
    {
        _w.Line($"/// <summary>One training step: <c>predict {Xml(_objective.Target.Source)} from {Xml(_objective.Context.Source)}</c> ({At(_objective.Span)}).</summary>");
        using (_w.Block($"protected override {Runtime}.Training.LossTerms TrainingStep({Tensor} {_batch}, {Runtime}.Training.StepContext step)"))
        {
            if (Masked)
            {
                WriteMasks();
            }

            var targetView = WriteTargetView();
            WriteTarget(targetView);
            var contextView = WriteContextView();
            WriteContext(contextView);
            WritePrediction();
            WriteLossTerms();
            _w.Line($"// {Next()} Backward and optimizer step (every term is checked to be finite first; lr and weight decay follow the schedules).");
            _w.Line("step.BackwardAndStep(terms);");
            if (_kind == Binding.TargetKind.Ema)
            {
                _w.Line($"// {Next()} EMA update: theta_target <- m * theta_target + (1 - m) * theta_context, m from the momentum schedule.");
                _w.Line("step.UpdateEma(TargetEncoder, ContextEncoder);");
            }

            _w.Line("return terms;");
        }
    }

    private string MaskMember => _corruptions[_contextCorruption!.Name].Mask!;

    private void WriteMasks()
    {
        var link = _contextCorruption!.TokenMask!;
        var what = link.Builtin!.MaskNote ?? throw Unsupported($"the token mask {link.Source} without a note");
        _w.Line($"// {Next()} Masks for this batch: {what}; {Comment(link.Source)}.");
        _w.Line($"var masks = {MaskMember}.Sample({_batch}.shape[0], step.Generator);   // masks.Context (B, Nc), masks.Target (B, Nt): token indices");
    }

    private string WriteTargetView()
    {
        if (_targetCorruption is null)
        {
            return _batch;
        }

        var member = _corruptions[_targetCorruption.Name].Input!;
        var local = Local(_targetCorruption.Name);
        _w.Line($"// {Next()} Corrupt the target side: {Comment(_targetCorruption.Source)}.   {Batched(_e.Input!.Shape)}");
        _w.Line($"var {local} = {member}.Apply({_batch}, step.Generator);");
        return local;
    }

    /// <summary>The local holding the target encoder's output before any normalisation or gathering (what the
    /// regularizers see): <c>target</c> itself when nothing transforms it.</summary>
    private string _targetOutput = "target";

    private void WriteTarget(string view)
    {
        var module = _kind is Binding.TargetKind.Ema or Binding.TargetKind.Independent ? "TargetEncoder" : "ContextEncoder";
        var full = Batched(FullOutput);
        var forward = $"{module}.forward({view})";
        var transform = new List<string>();
        var expression = "targetOutput";
        if (_loss.LayerNormTarget)
        {
            expression = $"{Runtime}.Losses.TargetNorm.Layer({expression})";
            transform.Add("layer-normed");
        }

        if (Masked)
        {
            expression = $"{Runtime}.Models.Tokens.Gather({expression}, masks.Target)";
            transform.Add("kept at the target positions");
        }

        var description = _kind switch
        {
            Binding.TargetKind.Ema => "through the EMA target encoder, without gradient",
            Binding.TargetKind.StopGradient => "through the context encoder under stop-gradient (no gradient flows back)",
            Binding.TargetKind.Shared => "through the context encoder, with gradient (shared weights)",
            _ => "through the target encoder, with gradient",
        };
        var what = _targetCorruption is null ? "the full input" : "the corrupted view";
        var shapes = $"{Batched(_e.Input!.Shape)} -> {full}" + (Masked ? $" -> {Batched(_pipeline.Target)}" : string.Empty);
        _w.Line($"// {Next()} Target: {what} {description}{(transform.Count > 0 ? "; " + string.Join("; ", transform) : string.Empty)}.   {shapes}");
        var keepOutput = RegularizersNeedTargetOutput && transform.Count > 0;
        _targetOutput = keepOutput ? "targetOutput" : "target";
        if (_kind is Binding.TargetKind.Ema or Binding.TargetKind.StopGradient)
        {
            _w.Line($"{Tensor} target;");
            if (keepOutput)
            {
                _w.Line($"{Tensor} targetOutput;");
            }

            using (_w.Block($"using ({Torch}.no_grad())"))
            {
                if (keepOutput)
                {
                    _w.Line($"targetOutput = {forward};");
                    _w.Line($"target = {expression};");
                }
                else
                {
                    _w.Line($"target = {expression.Replace("targetOutput", forward)};");
                }
            }
        }
        else if (keepOutput)
        {
            _w.Line($"var targetOutput = {forward};");
            _w.Line($"var target = {expression};");
        }
        else
        {
            _w.Line($"var target = {expression.Replace("targetOutput", forward)};");
        }
    }

    private string WriteContextView()
    {
        if (ContextInputMember is not { } member)
        {
            return _batch;
        }

        var local = Local(_contextCorruption!.Name);
        var links = string.Join(" then ", _contextCorruption.InputLinks.Select(l => Comment(l.Source)));
        _w.Line($"// {Next()} Corrupt: {Comment(_contextCorruption.Name)} = {links}.   {Batched(_e.Input!.Shape)}");
        _w.Line($"var {local} = {member}.Apply({_batch}, step.Generator);");
        return local;
    }

    private void WriteContext(string view)
    {
        var input = Batched(_e.Input!.Shape);
        if (Masked)
        {
            _w.Line($"// {Next()} Context: the encoder sees only the context tokens.   {input} -> {Batched(_pipeline.Context)}");
            _w.Line($"var context = ContextEncoder.forward({view}, masks.Context);");
        }
        else
        {
            var what = view == _batch ? "the input" : "the corrupted input";
            _w.Line($"// {Next()} Context: {what} through the context encoder.   {input} -> {Batched(_pipeline.Context)}");
            _w.Line($"var context = ContextEncoder.forward({view});");
        }
    }

    private void WritePrediction()
    {
        var shapes = $"{Batched(_pipeline.Context)} -> {Batched(_pipeline.Prediction)}";
        var predictor = _e.Predictor.Builtin!;
        if (predictor.Has(BuiltinFlags.LocatesTargets))
        {
            _w.Line($"// {Next()} Predict the target tokens from the context tokens and the target positions.   {shapes}");
            _w.Line("var predicted = Predictor.forward(context, masks.Context, masks.Target);");
        }
        else if (!predictor.Has(BuiltinFlags.Identity))
        {
            _w.Line($"// {Next()} Predict the target representation from the context one{(Tokens ? ", token by token" : string.Empty)}.   {shapes}");
            _w.Line("var predicted = Predictor.forward(context);");
        }
        else
        {
            _w.Line($"// {Next()} No predictor: the context representation is the prediction.   {Batched(_pipeline.Prediction)}");
            _w.Line("var predicted = context;");
        }
    }

    private void WriteLossTerms()
    {
        _w.Line($"// {Next()} Loss terms.");
        _w.Line($"var terms = new {Runtime}.Training.LossTerms();");
        var shared = _objective.Regularizers.FirstOrDefault(r => r.Builtin!.SharesPredictionWeight is not null);
        var lossWeight = shared is null
            ? Setting("Loss", "scale")
            : $"(1 - {Setting(_ownerPrefixes[shared.Call.Function], shared.Builtin!.SharesPredictionWeight!.Parameter)}) * {Setting("Loss", "scale")}";
        var call = Expand(Mapping(_loss.Builtin).Member!, _loss.Call, "Loss", hole => hole switch { "predicted" => "predicted", "target" => "target", _ => null! });
        if (shared is not null)
        {
            _w.Line($"// {shared.Builtin!.SharesPredictionWeight!.Note}.");
        }

        _w.Line($"terms.Add({String(_loss.Call.Function)}, {call}, weight: {lossWeight});");
        foreach (var regularizer in _objective.Regularizers)
        {
            var builtin = regularizer.Builtin!;
            var prefix = _ownerPrefixes[regularizer.Call.Function];
            var scale = Setting(prefix, "scale");
            var pairs = builtin.Has(BuiltinFlags.PairsSides);
            _w.Line($"// regularize {Comment(regularizer.Source)}: on the context encoder's output{(TargetTrainable && !pairs ? " and the target encoder's, averaged" : string.Empty)}.");
            foreach (var term in builtin.Terms)
            {
                string Term(string z) => Expand(term.CSharp, regularizer.Call, prefix, hole => hole switch
                {
                    "z" => z,
                    "z1" => Tokens ? $"{Runtime}.Models.Tokens.MeanPool(context)" : "context",
                    "z2" => Tokens ? $"{Runtime}.Models.Tokens.MeanPool({_targetOutput})" : _targetOutput,
                    "generator" => "step.Generator",
                    _ => null!,
                });
                var value = pairs ? Term("context") : Both(Term);
                var weight = term.WeightParameter is { } parameter ? $"{Setting(prefix, parameter)} * {scale}" : scale;
                _w.Line($"terms.Add({String(term.Name)}, {value}, weight: {weight});");
            }
        }
    }

    private string Both(Func<string, string> term) =>
        TargetTrainable ? $"0.5 * ({term("context")} + {term(_targetOutput)})" : term("context");
}
