using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Spec;
using static Jepa.Dsl.Emit.Python;

namespace Jepa.Dsl.Emit;

/// <summary>
/// Prints one experiment's PyTorch program from its <see cref="ExperimentSpec"/>, with the names of
/// <see cref="PythonNames"/> and the catalog's Python column: the file's values (<c>OPTIONS</c> and the loss's
/// constants), the modules in the generated class's order (so the same seed gives the same initial weights), and the
/// training step in numbered steps with shape comments. The spec's draws (token masks, corrupted views, a
/// regularizer's random directions) become step 1, <c>draw</c>, made for the global batch and kept for this process's
/// part; the other steps print in the spec's order in <c>loss_terms</c> and <c>training_step</c>. A term the catalog
/// marks as coupling samples sees the other processes' samples as its Python column says: gathered or all-reduced,
/// autograd-aware. Nothing is decided here that the spec does not say.
/// </summary>
internal sealed class PyTorchProgramWriter
{
    private readonly ExperimentSpec _spec;
    private readonly ModelSpec _model;
    private readonly PythonNames _names;
    private readonly Dictionary<OptionId, OptionSpec> _options;
    private readonly IndentedWriter _w = new();
    private int _number;

    public PyTorchProgramWriter(ExperimentSpec spec)
    {
        _spec = spec;
        _model = spec.Model;
        _names = PythonNames.For(spec);
        _options = spec.Options.SelectMany(g => g.Options).ToDictionary(o => o.Id);
    }

    private bool Tokens => _model.Mode != RepresentationMode.Vector;

    /// <summary>True when a side draws views: the representations are view-major (V, b, ...), the loss and the
    /// regularizers average over pairs of views or over views (jepa_torch.views, C#'s <c>Views</c>).</summary>
    private bool HasViews => _spec.TrainingStep.Steps.Any(s => s is ViewsContextStep);

    private TargetStep TheTarget => _spec.TrainingStep.Steps.OfType<TargetStep>().Single();

    /// <summary>The loss step, whose regularizers may draw.</summary>
    private LossStep TheLoss => _spec.TrainingStep.Steps.OfType<LossStep>().Single();

    public string Write()
    {
        WriteHeader();
        WriteOptions();
        _w.Line();
        _w.Line();
        _w.Line($"class {_names.Class}(jt.Experiment):");
        using (_w.Indented())
        {
            Docstring($"experiment {Comment(_spec.Name)} ({At(_spec.Position)}).");
            _w.Line();
            _w.Line($"name = {String(_spec.Name)}");
            _w.Line($"input_shape = {Tuple(_spec.Input.Shape.Dims.Select(d => Integer(d.Size)))}   # {Comment(_spec.Input.Source)}   {At(_spec.Input.Position)}");
            _w.Line("normalizes_inputs = True   # each encoder reads self.normalize(its input): the loop hands the batches over as loaded");
            _w.Line();
            WriteConstructor();
            _w.Line();
            WriteEncode();

            _w.Line();
            WriteDraw();
            _w.Line();
            WriteLossTerms();
            _w.Line();
            WriteTrainingStep();
        }

        _w.Line();
        _w.Line();
        _w.Line("if __name__ == \"__main__\":");
        using (_w.Indented())
        {
            _w.Line($"jt.run.main({_names.Class}, OPTIONS, __doc__)");
        }

        return _w.ToString();
    }

    // ---- back-references, failures ---------------------------------------------------------------------------------

    private string At(Position position) => $"{_spec.FileName}({position.Line},{position.Column})";

    private static NotSupportedException Unsupported(string what) => new($"the PyTorch emitter does not support {what}");

    /// <summary>A built-in's Python mapping; one without is JEPA154 at <paramref name="position"/>.</summary>
    private static PythonMember Mapping(BuiltinRef builtin, Position position) =>
        builtin.Resolve().Python ?? throw new TargetNotSupportedException(position, $"{builtin.Name} ({Builtins.Describe(builtin.Kind)}) has no PyTorch mapping yet");

    /// <summary>A mapping's member; an entry mapped to nothing where something must be written is an internal error.</summary>
    private static string Member(BuiltinRef builtin, Position position) =>
        Mapping(builtin, position).Member ?? throw Unsupported($"{builtin.Name} as a member of the program");

    // ---- header and options ----------------------------------------------------------------------------------------

    private void WriteHeader()
    {
        var batch = Integer(_spec.Train.Batch);
        _w.Line("#!/usr/bin/env python3");
        _w.Line($"\"\"\"{Comment(_spec.Name)} ({_spec.FileName}) as a PyTorch program, for one process or many under torchrun:");
        _w.Line();
        _w.Line($"    python3 {_names.FileName} --data FILE...");
        _w.Line($"    torchrun --nproc_per_node N {_names.FileName} --data FILE...");
        _w.Line();
        Paragraph($"The batch of the file ({batch}) is the global batch: N processes train on {batch}/N samples each and compute the loss and " +
                  $"gradients that one process computes on {batch} (docs/scale-out.md). Each encoder reads its input normalised per channel " +
                  "(self.normalize, right before it and after the corruptions, as the .NET step does; statistics of the training data, " +
                  "kept in every checkpoint). Generated by " +
                  $"`jepa export {_spec.FileName} --target " +
                  $"{PyTorchEmitter.Target}` (Jepa {CSharpEmitter.Version}): edit the .jepa file and export it again, not this one. It imports " +
                  "the runtime package jepa_torch (the python/ folder of the Jepa repository).", "", "");
        _w.Line();
        _w.Line("Shapes (batch dimension B first):");
        foreach (var stage in _spec.Shapes)
        {
            _w.Line($"    {Comment(stage.Stage)}: {stage.Input.WithBatch()} -> {stage.Output.WithBatch()}   {Comment(stage.Description)}");
        }

        if (_spec.Cost is { } cost)
        {
            foreach (var module in cost.Modules)
            {
                _w.Line($"Parameters of the {Comment(module.Role)}: {(module.Parameters is { } p ? p.ToString("N0", CultureInfo.InvariantCulture) : "unknown")} ({Comment(module.Note)}).");
            }
        }

        _w.Line("\"\"\"");
        _w.Line("import importlib.util");
        _w.Line("import sys");
        _w.Line("from pathlib import Path");
        _w.Line();
        _w.Line("if importlib.util.find_spec(\"jepa_torch\") is None:  # not installed: the repository's python/ folder");
        _w.Line("    sys.path.insert(0, str(next(p / \"python\" for p in Path(__file__).resolve().parents if (p / \"python\" / \"jepa_torch\").is_dir())))");
        _w.Line();
        _w.Line("import torch");
        _w.Line();
        _w.Line("import jepa_torch as jt");
        _w.Line($"from jepa_torch import corruptions as C, losses as L, models as M, training as T{(HasViews ? ", views as V" : string.Empty)}");
        _w.Line();
    }

    /// <summary>Writes <paramref name="text"/> wrapped, its lines after <paramref name="first"/> and then
    /// <paramref name="next"/>, and <paramref name="shapes"/> unbroken after it (three spaces apart, or on a line of its own).</summary>
    private void Paragraph(string text, string first, string next, string? shapes = null)
    {
        var width = Width - _w.Column;
        var lines = Wrap(text, first, next, width).ToList();
        if (shapes is not null)
        {
            var last = lines[lines.Count - 1];
            if (last.Length + 3 + shapes.Length <= width)
            {
                lines[lines.Count - 1] = last + "   " + shapes;
            }
            else
            {
                lines.Add(next + shapes);
            }
        }

        foreach (var line in lines)
        {
            _w.Line(line);
        }
    }

    /// <summary>A docstring: <paramref name="text"/> wrapped, then <paramref name="shapes"/> unbroken.</summary>
    private void Docstring(string text, string? shapes = null)
    {
        const string quotes = "\"\"\"";
        Paragraph(shapes is null ? text + quotes : text, quotes, string.Empty, shapes is null ? null : shapes + quotes);
    }

    private void WriteOptions()
    {
        var train = _spec.Train;
        _w.Line($"# The values of train ({At(train.Position)}), the monitor and the evaluation's split; the others are where they are used.");
        _w.Line("OPTIONS = jt.Options(");
        using (_w.Indented())
        {
            var length = train.Steps is { } steps ? $"steps={Integer(steps)}" : $"epochs={Integer(train.Epochs ?? 1)}";
            _w.Line($"batch={Integer(train.Batch)}, {length}, seed={Integer(train.Seed)},");
            var optimizer = new List<string> { $"optimizer={Member(train.Optimizer, train.Position)}", $"lr={Ramp(train.LearningRate)}" };
            if (train.WeightDecay is { } decay) optimizer.Add($"weight_decay={Ramp(decay)}");
            if (train.Betas is { } betas) optimizer.Add($"betas=({Number(betas.Beta1)}, {Number(betas.Beta2)})");
            if (train.Momentum is { } momentum) optimizer.Add($"momentum={Number(momentum)}");
            if (train.Nesterov is { } nesterov) optimizer.Add($"nesterov={(nesterov ? "True" : "False")}");
            if (train.Clip is { } clip) optimizer.Add($"grad_clip={Number(clip)}");
            _w.Line(string.Join(", ", optimizer) + ",");
            var schedule = new List<string> { $"schedule={Member(train.Schedule, train.Position)}" };
            if (train.WarmupEpochs is { } warmupEpochs) schedule.Add($"warmup_epochs={Integer(warmupEpochs)}");
            if (train.WarmupSteps is { } warmupSteps) schedule.Add($"warmup_steps={Integer(warmupSteps)}");
            if (train.StartLr is { } startLr) schedule.Add($"start_lr={Number(startLr)}");
            if (train.FinalLr is { } finalLr) schedule.Add($"final_lr={Number(finalLr)}");
            _w.Line(string.Join(", ", schedule) + ",");
            Mapping(train.Device, train.Position);
            if (train.Ema is { } ema)
            {
                _w.Line($"ema_momentum={Ramp(ema.Momentum)},");
            }

            foreach (var call in _spec.Monitors.Concat(_spec.Evaluate?.Items ?? default))
            {
                if (Mapping(call.Builtin, call.Position).Member is { } member)
                {
                    _w.Line(Template.Expand(member, hole => call.Arguments.FirstOrDefault(a => a.Name == hole) is { } argument
                        ? Literal(argument.Type, argument.Value)
                        : throw Unsupported($"the hole {{{hole}}} of {call.Builtin.Name}")) + ",");
                }
            }
        }

        _w.Line(")");
        foreach (var group in _spec.Options)
        {
            var constants = group.Options.Where(o => o.Id.Owner.Kind is OwnerKind.Loss or OwnerKind.Regularizer && !IsUnitWeight(o)).ToList();
            if (constants.Count > 0)
            {
                _w.Line($"{string.Join(", ", constants.Select(o => _names.Constant(o.Id)))} = " +
                        $"{string.Join(", ", constants.Select(o => Literal(o.Type, o.Value)))}   # {Comment(group.Source)}   {At(group.Position)}");
            }
        }
    }

    private static string Ramp((double Start, double End) ramp) => $"T.Ramp({Number(ramp.Start)}, {Number(ramp.End)})";

    /// <summary>A term's weight <c>* w</c> that is 1 (not written): the program writes 1.0, no constant.</summary>
    private static bool IsUnitWeight(OptionSpec option) => option.Note == OptionNote.TermWeight && option.Value is NumberValue { Value: 1.0 };

    // ---- the constructor -------------------------------------------------------------------------------------------

    /// <summary>An option's value as a Python literal, or <c>None</c> for an absent parameter.</summary>
    private string Value(ArgumentRef argument) =>
        argument.Option is { } id ? Literal(_options[id].Type, _options[id].Value) : "None";

    /// <summary>A catalog template whose parameters are literals (or the constants that <paramref name="constant"/>
    /// names); <paramref name="provided"/> fills the <c>{$name}</c> holes.</summary>
    private string Expand(string template, IEnumerable<ArgumentRef> arguments, Func<string, string?> provided, bool constants = false) =>
        Template.Expand(template, hole =>
        {
            if (hole.StartsWith("$", StringComparison.Ordinal))
            {
                return provided(hole.Substring(1)) ?? throw Unsupported($"the hole {{{hole}}} in {template}");
            }

            var argument = arguments.FirstOrDefault(a => a.Parameter == hole) ?? throw Unsupported($"the hole {{{hole}}} in {template}");
            return constants && argument.Option is { } id ? _names.Constant(id) : Value(argument);
        });

    private string Grid => _model.Grid is { } g ? $"({Integer(g.Height)}, {Integer(g.Width)})" : throw Unsupported("a module that needs a token grid, without one");

    /// <summary>A module built on the device: a catalog module with its arguments; a C# type is JEPA154.</summary>
    private string Construct(ModuleSpec module)
    {
        if (module.Builtin is not { } builtin)
        {
            throw new TargetNotSupportedException(module.Position,
                $"'{module.Source}' names the C# type {module.CustomType}, and the PyTorch target builds only the catalog's encoders");
        }

        var encoder = Expand(Member(builtin, module.Position), module.Arguments, hole => hole == "input_shape" ? "self.input_shape" : null);
        if (_model.Projector is not { } projector)
        {
            return encoder + ".to(ddp.device)";
        }

        // The encoder and its projector are one module (C#'s Projected<T>): names encoder.* and projector.*.
        var head = Expand(Member(projector.Builtin, projector.Position), projector.Arguments, hole => hole == "input_width"
            ? module.Width is { } width ? Integer(width) : throw Unsupported("a projector on an encoder of unknown width")
            : null);
        return $"M.Projected({encoder}, {head}).to(ddp.device)";
    }

    /// <summary>The comment on a module or corruption: its statement, a note, where the statement is.</summary>
    private void Statement(string? source, Position? position, string? note = null) =>
        Paragraph(Comment(source) + (note is null ? string.Empty : ": " + note), "# ", "#   ", position is { } p ? At(p) : null);

    private void WriteConstructor()
    {
        _w.Line("def __init__(self, options, ddp, precision):");
        using (_w.Indented())
        {
            _w.Line("self.options, self.precision, self.ddp = options, precision, ddp");
            _w.Line("# Modules are created in a fixed order under the run seed (the C# class's order: the same initial weights).");
            var context = _model.Context;
            Statement(context.Source, context.Position);
            if (_model.Projector is { } projector)
            {
                Statement(projector.Source, projector.Position, "on the encoder's output, on both sides (forward goes through it; .encoder is the backbone " +
                                                                 "that encode and the collapse monitor read)");
            }

            _w.Line($"self.context_encoder = {Construct(context)}");
            var target = "self.context_encoder";
            switch (_model.TargetKind)
            {
                case TargetKind.Ema:
                    Statement(_model.TargetSource, _model.TargetPosition);
                    _w.Line("self.target_encoder = " + Template.Expand(Member(_model.TargetWrapper!, _model.TargetPosition),
                        hole => hole switch { "$source" => "self.context_encoder", "$create" => Construct(context), _ => throw Unsupported($"the hole {{{hole}}}") }));
                    target = "self.target_encoder";
                    break;
                case TargetKind.Independent:
                    Statement(_model.TargetSource, _model.TargetPosition);
                    _w.Line($"self.target_encoder = {Construct(_model.Target!)}");
                    target = "self.target_encoder";
                    break;
                case TargetKind.StopGradient:
                    Mapping(_model.TargetWrapper!, _model.TargetPosition);
                    Statement(_model.TargetSource, _model.TargetPosition, "the context encoder itself, run without gradient on the target side");
                    break;
                case TargetKind.Shared:
                    Statement(_model.TargetSource == context.Source ? "target" : _model.TargetSource, _model.TargetPosition,
                        "the context encoder itself, trained through both sides");
                    break;
                default:
                    throw Unsupported($"the target kind {_model.TargetKind}");
            }

            var predictor = _model.Predictor;
            var position = predictor.Position ?? _spec.TrainingStep.Position;
            Statement(predictor.Source ?? "no predictor", predictor.Position, predictor.Source is null ? "the context representation is the prediction" : null);
            _w.Line("self.predictor = " + Expand(Member(predictor.Builtin, position), predictor.Arguments, hole => hole switch
            {
                "context_width" => ContextWidth is { } width ? Integer(width) : throw Unsupported("a predictor on an encoder of unknown width"),
                "grid" => Grid,
                _ => null,
            }) + ".to(ddp.device)");
            foreach (var corruption in _model.Corruptions)
            {
                WriteCorruption(corruption);
            }

            _w.Line($"self.register(context=self.context_encoder, target={target}, target_kind={String(RuntimeTargetKind)}, predictor=self.predictor)");
            var wrapped = new List<(string Member, string Module)> { ("self.context", "self.context_encoder"), ("self.predict", "self.predictor") };
            if (target != "self.context_encoder")
            {
                wrapped.Add(("self.target", target));
            }

            Paragraph("With several processes the trained modules run under DistributedDataParallel (it averages the gradients)." + BatchStatisticsNote(), "# ", "# ");
            _w.Line($"{string.Join(", ", wrapped.Select(w => w.Member))} = {string.Join(", ", wrapped.Select(w => $"ddp.wrap({w.Module})"))}");
        }
    }

    /// <summary>The runtime's name of the target kind (<c>jt.Experiment.register</c>).</summary>
    private string RuntimeTargetKind => _model.TargetKind switch
    {
        TargetKind.Ema => "ema",
        TargetKind.StopGradient => "stopgrad",
        TargetKind.Shared => "shared",
        TargetKind.Independent => "independent",
        _ => throw Unsupported($"the target kind {_model.TargetKind}"),
    };

    /// <summary>What the modules whose options couple the samples of a batch (batch norm) do under several processes.</summary>
    private string BatchStatisticsNote()
    {
        var coupled = new List<(string Note, string Source)>();
        void Check(string? source, IEnumerable<ArgumentRef> arguments)
        {
            foreach (var argument in arguments)
            {
                if (source is not null && argument.Option is { } id && CouplingNote(_options[id]) is { } note)
                {
                    coupled.Add((note, $"'{Comment(source)}'"));
                }
            }
        }

        Check(_model.Context.Source, _model.Context.Arguments);
        Check(_model.Target?.Source, _model.Target?.Arguments ?? default);
        Check(_model.Projector?.Source, _model.Projector?.Arguments ?? default);
        Check(_model.Predictor.Source, _model.Predictor.Arguments);
        return string.Concat(coupled.GroupBy(c => c.Note).Select(g =>
            $" In {string.Join(" and ", g.Select(c => c.Source))}, {g.Key}: ddp.wrap gives {(g.Count() == 1 ? "it" : "them")} the statistics of the global batch on every process."));
    }

    /// <summary>The catalog's note on an option value that couples samples (<c>norm: batch</c>), or null.</summary>
    private static string? CouplingNote(OptionSpec option) =>
        option.Value is OptionValue value && option.Builtin?.Resolve().Find(option.Id.Parameter)?.OptionSet is { } set
        && set.CouplesSamples.TryGetValue(value.Name, out var note)
            ? note
            : null;

    private void WriteCorruption(CorruptionSpec corruption)
    {
        var (input, mask) = _names.Corruption(corruption.Name);
        string Create(LinkSpec link)
        {
            var mapping = Mapping(link.Builtin, link.Position);
            var template = (link.IsTokenMask ? mapping.TokenMask : mapping.Member)
                           ?? throw new TargetNotSupportedException(link.Position, $"{link.Builtin.Name} as {(link.IsTokenMask ? "a token mask" : "an input corruption")} has no PyTorch mapping");
            return Expand(template, link.Arguments, hole => hole == "grid" ? Grid : null);
        }

        Statement(corruption.Source, corruption.Position);
        if (input is not null)
        {
            var links = corruption.InputLinks.Select(Create).ToList();
            _w.Line($"self.{input} = {(links.Count == 1 ? links[0] : $"C.Compose({string.Join(", ", links)})")}");
        }

        if (mask is not null)
        {
            _w.Line($"self.{mask} = {Create(corruption.Mask!)}");
        }
    }

    // ---- encode ----------------------------------------------------------------------------------------------------

    /// <summary>The module <c>encode</c> reads: the target encoder when it is a module of its own.</summary>
    private string EncodeModule => (_model.TargetKind is TargetKind.Ema or TargetKind.Independent ? "self.target_encoder" : "self.context_encoder")
                                   + (_model.Projector is null ? string.Empty : ".encoder");

    private void WriteEncode()
    {
        var pooled = Tokens ? $" -> (B, {(_model.EmbeddingWidth is { } w ? Integer(w) : "?")})" : string.Empty;
        _w.Line($"def encode(self, {_names.Batch}):");
        using (_w.Indented())
        {
            var backbone = _model.Projector is null ? string.Empty : " (the encoder alone, before the projector)";
            Docstring($"The representation evaluation and the collapse monitor use: {_model.EncodeDescription}{backbone} on the normalised samples" +
                      $"{(Tokens ? ", averaged over tokens" : string.Empty)}.",
                $"{_spec.Input.Shape.WithBatch()} -> {_model.EncodedOutput.WithBatch()}{pooled}");
            _w.Line("with torch.no_grad():");
            _w.Line(Tokens ? $"    return M.mean_pool({EncodeModule}(self.normalize({_names.Batch})))" : $"    return {EncodeModule}(self.normalize({_names.Batch}))");
        }
    }

    // ---- step 1: the draws -----------------------------------------------------------------------------------------

    /// <summary>One random draw of the step: its comment, key and expression.</summary>
    private sealed record Draw(string Note, string? Shapes, string Key, string Expression);

    private List<Draw> Draws()
    {
        var draws = new List<Draw>();
        var batch = _names.Batch;
        foreach (var step in _spec.TrainingStep.Steps)
        {
            switch (step)
            {
                case MaskStep mask:
                    draws.Add(new Draw($"{mask.Note}.", "context (b, Nc), target (b, Nt)", _names.MasksKey,
                        $"self.{_names.Corruption(mask.Corruption).Mask}.sample(part.total, g).part(part).to({batch}.device)"));
                    break;
                case ViewStep view:
                    draws.Add(new Draw($"{view.Note}.", Local(view.Shapes), _names.ViewKey(view.Side), $"self.{_names.Corruption(view.Corruption).Input}({batch}, g, part)"));
                    break;
                case DrawViewsStep group:
                    draws.Add(new Draw($"{group.Note} right before the encoder; drawn for the global batch as C#'s Views.Draw, this process's rows of each view.",
                        Local(group.Shapes), _names.GroupKey(group.Group),
                        $"V.draw(self.{_names.Corruption(group.Group).Input}, {batch}, {Integer(group.Count)}, g, part)"));
                    break;
            }
        }

        foreach (var regularizer in TheLoss.Regularizers)
        {
            if (Mapping(regularizer.Builtin, _spec.TrainingStep.Position).Draw is not { } draw)
            {
                continue;
            }

            foreach (var side in regularizer.BothSides ? new[] { false, true } : new[] { false })
            {
                var width = side ? TargetWidth : ContextWidth;
                var expression = Expand(draw.Template, regularizer.Arguments, hole => hole switch
                {
                    "width" => width is { } w ? Integer(w) : throw Unsupported($"{regularizer.Builtin.Name} on a representation of unknown width"),
                    "generator" => "g",
                    _ => null,
                }, constants: true);
                var views = HasViews ? side ? TargetViews : ContextViews : (int?)null;
                var forSide = regularizer.BothSides ? side ? " for the target side" : " for the context side" : string.Empty;
                draws.Add(views is { } count
                    ? new Draw($"{draw.Note}: one draw per view{forSide}, in view order.", null, _names.DrawKey(regularizer.Builtin.Name, side),
                        $"[{expression}.to({batch}.device) for _ in range({Integer(count)})]")
                    : new Draw($"{draw.Note}{(forSide.Length > 0 ? "," + forSide : string.Empty)}.", null, _names.DrawKey(regularizer.Builtin.Name, side),
                        $"{expression}.to({batch}.device)"));
            }
        }

        return draws;
    }

    /// <summary>The views of the context side, and of the target side before any mean (with views).</summary>
    private int ContextViews => _spec.TrainingStep.Steps.OfType<ViewsContextStep>().Single().Input.Views;

    private int TargetViews => TheViewsTarget.FromContext?.Count ?? TheViewsTarget.Input!.Views;

    private ViewsTargetStep TheViewsTarget => _spec.TrainingStep.Steps.OfType<ViewsTargetStep>().Single();

    /// <summary>The width of what the loss and the regularizers read on each side: the projector's with one.</summary>
    private int? ContextWidth => _model.Projector is { } projector ? projector.Width : _model.Context.Width;

    private int? TargetWidth => _model.Projector is { } projector ? projector.Width
        : _model.TargetKind == TargetKind.Independent ? _model.Target!.Width : _model.Context.Width;

    private void WriteDraw()
    {
        var draws = Draws();
        _w.Line($"def draw(self, {_names.Batch}, g, part):");
        using (_w.Indented())
        {
            if (draws.Count == 0)
            {
                _w.Line("\"\"\"This step draws nothing at random.\"\"\"");
                _w.Line("return {}");
                return;
            }

            _number = 1;
            Docstring("1. The step's random draws, for the global batch (alike on every process); each process keeps its part.");
            _w.Line("return {");
            using (_w.Indented())
            {
                foreach (var draw in draws)
                {
                    Paragraph(draw.Note, "# ", "# ", draw.Shapes);
                    _w.Line($"{String(draw.Key)}: {draw.Expression},");
                }
            }

            _w.Line("}");
        }
    }

    /// <summary>Batched shapes as this process sees them: <c>b</c> for its part of the global batch <c>B</c>.</summary>
    private static string Local(string? shapes) =>
        System.Text.RegularExpressions.Regex.Replace(shapes ?? string.Empty, @"(?<=[(\d ])B(?=[,)])", "b");   // (B, ..), (2B, ..), (4, B, ..), (B)

    // ---- steps 2 on: loss_terms and training_step ------------------------------------------------------------------

    /// <summary>The comment of the next numbered step: its note, <paramref name="more"/> and its shapes.</summary>
    private void Numbered(StepSpec step, string more = "")
    {
        _number++;
        Paragraph($"{_number.ToString(CultureInfo.InvariantCulture)}. {Comment(step.Note)}{more}.", "# ", "#    ", step.Shapes is { } shapes ? Local(shapes) : null);
    }

    /// <summary>The draws' key for a side's view, as the step reads it.</summary>
    private string Input(Side? side) => side is { } s ? $"drawn[{String(_names.ViewKey(s))}]" : _names.Batch;

    /// <summary>The local of the normalise step (<see cref="NormalizeStep"/>).</summary>
    private const string Normalized = "normalized";

    /// <summary>What an encoder reads, normalised: inline, or the local of the normalise step.</summary>
    private string EncoderInput(EncoderInput input) => input.Normalized ? Normalized : $"self.normalize({Input(input.View)})";

    private void WriteLossTerms()
    {
        var first = _number + 1;
        var steps = _spec.TrainingStep.Steps.Where(s => s is NormalizeStep or TargetStep or ContextStep or ViewsTargetStep or ViewsContextStep or PredictStep or LossStep).ToList();
        var step = _spec.TrainingStep;
        _w.Line($"def loss_terms(self, {_names.Batch}, drawn):");
        using (_w.Indented())
        {
            Docstring($"{first.ToString(CultureInfo.InvariantCulture)}-{(first + steps.Count - 1).ToString(CultureInfo.InvariantCulture)}: " +
                      $"predict {Comment(step.Target)} from {Comment(step.Context)}; name -> (value, weight).");
            if (steps.OfType<ContextStep>().Any(c => c.Masked))
            {
                _w.Line($"masks = drawn[{String(_names.MasksKey)}]");
            }

            var inAutocast = false;
            foreach (var s in steps)
            {
                if (s is NormalizeStep normalize)
                {
                    // Before the first encoder, outside autocast: the same values whatever the precision.
                    if (inAutocast) throw Unsupported("a normalise step after an encoder");
                    Numbered(normalize);
                    _w.Line($"{Normalized} = self.normalize({_names.Batch})");
                    continue;
                }

                if (s is TargetStep { Kind: TargetKind.Ema or TargetKind.StopGradient } or ViewsTargetStep { Kind: TargetKind.Ema or TargetKind.StopGradient, FromContext: null })
                {
                    if (inAutocast) throw Unsupported("a target without gradient after an encoder with gradient");
                    Numbered(s);
                    _w.Line("with torch.no_grad(), self.precision.autocast():");
                    using (_w.Indented())
                    {
                        if (s is TargetStep noGrad) WriteTarget(noGrad);
                        else WriteViewsTarget((ViewsTargetStep)s);
                    }

                    continue;
                }

                if (s is LossStep loss)
                {
                    WriteLoss(loss);
                    continue;
                }

                if (!inAutocast)
                {
                    _w.Line("with self.precision.autocast():");
                    inAutocast = true;
                }

                using (_w.Indented())
                {
                    Numbered(s);
                    switch (s)
                    {
                        case TargetStep target:
                            WriteTarget(target);
                            break;
                        case ViewsTargetStep target:
                            WriteViewsTarget(target);
                            break;
                        case ViewsContextStep context:
                            _w.Line($"context = {ViewsForward("self.context", context.Input)}");
                            break;
                        case ContextStep context:
                            _w.Line(context.Masked
                                ? $"context = self.context({EncoderInput(context.Input)}, masks.context)"
                                : $"context = self.context({EncoderInput(context.Input)})");
                            break;
                        case PredictStep predict:
                            _w.Line(predict.Form switch
                            {
                                PredictionForm.AtTargets => "predicted = self.predict(context, masks.context, masks.target)",
                                PredictionForm.FromContext => "predicted = self.predict(context)",
                                _ => "predicted = context",
                            });
                            break;
                        default:
                            throw Unsupported($"the step {s.GetType().Name}");
                    }
                }
            }
        }
    }

    /// <summary>True when the target the loss reads is in fp32 already (layer-normed or gathered from an fp32 copy).</summary>
    private bool TargetIsFloat => TheTarget.LayerNorm || TheTarget.Gather;

    private void WriteTarget(TargetStep step) => WriteTarget($"{TargetModule(step.Kind)}({EncoderInput(step.Input)})", output =>
    {
        var expression = TargetIsFloat ? $"{output}.float()" : output;
        expression = step.LayerNorm ? $"L.layer_norm({expression})" : expression;
        return step.Gather ? $"M.gather_tokens({expression}, masks.target)" : expression;
    }, step.KeepsOutput);

    /// <summary>Writes <c>target</c>: <paramref name="transform"/> of the target side's output <paramref name="source"/>,
    /// which is kept apart in <c>target_output</c> (for the regularizers) when <paramref name="keepsOutput"/>.</summary>
    private void WriteTarget(string source, Func<string, string> transform, bool keepsOutput)
    {
        if (keepsOutput)
        {
            _w.Line($"target_output = {source}");
        }

        _w.Line($"target = {transform(keepsOutput ? "target_output" : source)}");
    }

    /// <summary>A side's module over its views, view-major: <c>V.stack(V, module(pass), ...)</c>, each pass the drawn
    /// views of one size (concatenated when several groups have it), normalised, or the one view it reads.</summary>
    private string ViewsForward(string module, ViewsInput input)
    {
        string Drawn(string group) => $"drawn[{String(_names.GroupKey(group))}]";
        var passes = input.Single is { } single
            ? new[] { $"{module}({EncoderInput(single)})" }
            : input.Passes.Select(p => $"{module}(self.normalize({(p.Groups.Count == 1 ? Drawn(p.Groups[0]) : $"torch.cat([{string.Join(", ", p.Groups.Select(Drawn))}], 0)")}))");
        return $"V.stack({Integer(input.Views)}, {string.Join(", ", passes)})";
    }

    /// <summary>The module the target side runs.</summary>
    private static string TargetModule(TargetKind kind) => kind switch
    {
        TargetKind.Ema or TargetKind.Independent => "self.target",
        TargetKind.StopGradient => "self.context_encoder",
        TargetKind.Shared => "self.context",
        _ => throw Unsupported($"the target kind {kind}"),
    };

    /// <summary>The target side's representations over its views: its module over its passes, or the context's
    /// representations of its views (detached for stop-gradient); then their mean, then layer-normed.</summary>
    private void WriteViewsTarget(ViewsTargetStep step)
    {
        var source = step.FromContext is { } slice
            ? $"context[{Integer(slice.First)}:{Integer(slice.First + slice.Count)}]{(step.Kind == TargetKind.StopGradient ? ".detach()" : string.Empty)}"
            : ViewsForward(TargetModule(step.Kind), step.Input!);
        WriteTarget(source, output =>
        {
            var expression = step.LayerNorm ? $"{output}.float()" : output;
            expression = step.Mean ? $"V.mean({expression})" : expression;
            return step.LayerNorm ? $"L.layer_norm({expression})" : expression;
        }, step.KeepsOutput);
    }

    /// <summary>The gathered copies of what coupled terms read: expression -> local, in the order first read.</summary>
    private readonly List<(string Expression, string Local, string Shape)> _gathered = new();

    private string Gathered(string expression, string local, string shape)
    {
        foreach (var g in _gathered)
        {
            if (g.Expression == expression) return g.Local;
        }

        _gathered.Add((expression, local, shape));
        return local;
    }

    /// <summary>The shape of one segment (0-based) of a step's shapes, with the global batch B.</summary>
    private static string Segment(string? shapes, int index)
    {
        var parts = (shapes ?? "(B, ?)").Split(new[] { " -> " }, StringSplitOptions.None);
        return parts[Math.Min(index < 0 ? parts.Length + index : index, parts.Length - 1)];
    }

    /// <summary>What a term reads: its fp32 expression, the local holding its gathered copy, and that copy's shape.</summary>
    private sealed record Operand(string Expression, string Local, string Shape)
    {
        public Operand Pooled(int? width) => new($"M.mean_pool({Expression})", "pooled_" + Local, $"(B, {(width is { } w ? Integer(w) : "?")})");
    }

    private void WriteLoss(LossStep step)
    {
        var position = _spec.TrainingStep.Position;
        var loss = Mapping(step.Loss, position);
        var notes = new List<string>
        {
            loss.Coupling == PythonCoupling.None
                ? $"{step.Loss.Name} is a mean over samples: each process takes its part's, DDP averages them."
                : $"{step.Loss.Name} couples the samples: {loss.CouplingNote}.",
        };
        if (step.SharedNote is { } sharedNote)
        {
            notes.Add(sharedNote + ".");
        }

        // What the terms read, in fp32: the prediction, the target, the context representation and the target's output.
        // With views they are view-major (V, b, ...): a gather joins the processes' rows along the batch, dimension 1.
        var pairs = step.Pairs;
        var (contextShapes, targetShapes, targetIsFloat, keepsOutput) = pairs is null
            ? (_spec.TrainingStep.Steps.OfType<ContextStep>().Single().Shapes, TheTarget.Shapes, TargetIsFloat, TheTarget.KeepsOutput)
            : (_spec.TrainingStep.Steps.OfType<ViewsContextStep>().Single().Shapes, TheViewsTarget.Shapes, TheViewsTarget.LayerNorm, TheViewsTarget.KeepsOutput);
        var context = new Operand("context.float()", "contexts", Segment(contextShapes, -1));
        var targetValue = new Operand(targetIsFloat ? "target" : "target.float()", "targets", Segment(targetShapes, -1));
        var targetOutput = keepsOutput ? new Operand("target_output.float()", "target_outputs", Segment(targetShapes, 1)) : targetValue;
        string Read(Operand operand, PythonMember mapping) =>
            mapping.Coupling == PythonCoupling.Gather ? Gathered(operand.Expression, operand.Local, operand.Shape) : operand.Expression;

        // With views, the loss and a regularizer of the pair of sides average over the pairs of views (V.pairwise), a
        // regularizer of one side over its views (V.mean_over_views): each a lambda over one view or one pair.
        var sameView = pairs?.SameView is { } first ? $", same_view=({Integer(first.Context)}, {Integer(first.Target)})" : string.Empty;
        string Pairwise(string left, string right, string lambda) => $"V.pairwise({left}, {right}, lambda p, t: {lambda}{sameView})";
        var terms = new List<(string Name, string Value, string Weight)>();
        var value = Expand(Member(step.Loss, position), step.Arguments, hole => hole switch
        {
            "predicted" => pairs is null ? "predicted.float()" : "p",
            "target" => pairs is null ? Read(targetValue, loss) : "t",
            "first" => $"self.ddp.first_row({(pairs is null ? "predicted" : "p")})",
            _ => null,
        }, constants: true);
        var scale = Weight(step.Scale);
        var shared = step.SharedWeight is { } w ? _names.Constant(w) : null;
        terms.Add((step.Loss.Name, pairs is null ? value : Pairwise("predicted.float()", Read(targetValue, loss), value),
            shared is null ? scale : scale == "1.0" ? $"1 - {shared}" : $"(1 - {shared}) * {scale}"));

        foreach (var regularizer in step.Regularizers)
        {
            var mapping = Mapping(regularizer.Builtin, position);
            notes.Add(regularizer.Note + (mapping.Coupling == PythonCoupling.None ? "." : $"; {regularizer.Builtin.Name} couples the samples: {mapping.CouplingNote}."));
            var draws = mapping.Draw is null ? null : $"drawn[{String(_names.DrawKey(regularizer.Builtin.Name, false))}]"
                + (regularizer.BothSides ? $" + drawn[{String(_names.DrawKey(regularizer.Builtin.Name, true))}]" : string.Empty);
            foreach (var term in regularizer.Builtin.Resolve().Terms)
            {
                var template = term.Python ?? throw new TargetNotSupportedException(position, $"the term {term.Name} of {regularizer.Builtin.Name} has no PyTorch mapping yet");
                string Pooled(string z) => step.Tokens ? $"M.mean_pool({z})" : z;
                string Term(string z, string z1, string z2, Func<string> drawn) => Expand(template, regularizer.Arguments, hole => hole switch
                {
                    "z" => z,
                    "z1" => z1,
                    "z2" => z2,
                    "drawn" => drawn(),
                    "reduce" => mapping.Coupling == PythonCoupling.Reduce ? "self.ddp.all_reduce" : throw Unsupported($"{{$reduce}} in {term.Name}, which does not reduce"),
                    _ => null,
                }, constants: true);
                string DrawnFor(bool targetSide) => $"drawn[{String(_names.DrawKey(regularizer.Builtin.Name, targetSide))}]";
                string termValue;
                if (pairs is null)
                {
                    string Side(bool targetSide) => Term(Read(targetSide ? targetOutput : context, mapping),
                        Read(step.Tokens ? context.Pooled(ContextWidth) : context, mapping),
                        Read(step.Tokens ? targetOutput.Pooled(TargetWidth) : targetOutput, mapping), () => DrawnFor(targetSide));
                    termValue = regularizer.BothSides ? $"0.5 * ({Side(false)} + {Side(true)})" : Side(false);
                }
                else if (regularizer.Pairs)
                {
                    termValue = Pairwise(Read(context, mapping), Read(targetOutput, mapping), Term("p", Pooled("p"), Pooled("t"), () => "d"));
                }
                else
                {
                    var sides = Read(context, mapping) + (regularizer.BothSides ? ", " + Read(targetOutput, mapping) : string.Empty);
                    termValue = draws is null
                        ? $"V.mean_over_views(lambda z: {Term("z", "z", "z", () => "d")}, {sides})"
                        : $"V.mean_over_views(lambda z, d: {Term("z", "z", "z", () => "d")}, {sides}, draws={draws})";
                }

                var weight = Weight(regularizer.Scale);
                terms.Add((term.Name, termValue,
                    term.WeightParameter is { } parameter ? Multiply(_names.Constant(regularizer.Arguments.First(a => a.Parameter == parameter).Option!), weight) : weight));
            }
        }

        Numbered(step, ", in fp32. " + string.Join(" ", notes).TrimEnd('.'));
        if (_gathered.Count > 0)
        {
            var along = pairs is null ? string.Empty : ", dim=1";
            _w.Line($"{string.Join(", ", _gathered.Select(g => g.Local))} = {string.Join(", ", _gathered.Select(g => $"self.ddp.all_gather({g.Expression}{along})"))}" +
                    $"   # {string.Join(" and ", _gathered.Select(g => g.Shape).Distinct())}: the global batch");
        }

        _w.Line("return {");
        using (_w.Indented())
        {
            foreach (var (name, termValue, termWeight) in terms)
            {
                _w.Line($"{String(name)}: ({termValue}, {termWeight}),");
            }
        }

        _w.Line("}");
    }

    /// <summary>A term's weight <c>* w</c>: its constant, or 1.0 when not written.</summary>
    private string Weight(OptionId scale) => IsUnitWeight(_options[scale]) ? "1.0" : _names.Constant(scale);

    private static string Multiply(string a, string b) => b == "1.0" ? a : $"{a} * {b}";

    private void WriteTrainingStep()
    {
        _w.Line($"def training_step(self, {_names.Batch}, step):");
        using (_w.Indented())
        {
            _w.Line($"terms = self.loss_terms({_names.Batch}, self.draw({_names.Batch}, step.generator, step.part))");
            foreach (var step in _spec.TrainingStep.Steps)
            {
                switch (step)
                {
                    case BackwardStep:
                        Numbered(step);
                        _w.Line("step.backward_and_step(terms)");
                        break;
                    case EmaStep:
                        Numbered(step);
                        _w.Line("step.update_ema(self.target_encoder, self.context_encoder)");
                        break;
                    case MaskStep or ViewStep or DrawViewsStep or NormalizeStep or TargetStep or ContextStep or ViewsTargetStep or ViewsContextStep or PredictStep or LossStep:
                        break;
                    default:
                        throw Unsupported($"the step {step.GetType().Name}");
                }
            }

            _w.Line("return terms");
        }
    }
}
