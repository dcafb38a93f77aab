using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Cost;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Syntax;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Binding;

/// <summary>
/// Binds one experiment: statements and names; input; encoders (kinds, references, cycles); corruptions; the objective
/// (applications, loss, regularizers, target kind); the predictor's arguments; train, evaluate and monitor; warnings.
/// Then three passes over the bound nodes, each in its own file and with no state of the binder: shape inference
/// (<see cref="ShapeInference"/>: encoder outputs, token masks, the predictor's shapes, shape checks), the collapse rule
/// (<see cref="CollapseRule"/>) and the cost model (<see cref="CostEstimate"/>). Name binding lives in this class's
/// partial files, each binding one kind of statement.
/// </summary>
internal sealed partial class ExperimentBinder
{
    private readonly JepaSyntaxTree _tree;
    private readonly ExperimentSyntax _syntax;
    private readonly string? _namespace;
    private readonly DiagnosticBag _diagnostics;
    private readonly ArgumentBinder _arguments;

    private InputStatementSyntax? _inputSyntax;
    private PredictorStatementSyntax? _predictorSyntax;
    private ProjectorStatementSyntax? _projectorSyntax;
    private BlockSyntax? _objectiveSyntax;
    private BlockSyntax? _trainSyntax;
    private BlockSyntax? _evaluateSyntax;
    private BlockSyntax? _monitorSyntax;
    private readonly List<CorruptionStatementSyntax> _corruptionSyntax = new();
    private readonly List<EncoderStatementSyntax> _encoderSyntax = new();
    private readonly List<ViewsStatementSyntax> _viewsSyntax = new();
    private bool _sawEncoderStatement;

    // Statements that failed to parse: their names count as declared (erroneous), their kinds as present, and an
    // unknown statement keyword makes "missing" and "unknown name" errors untrustworthy, so those are not reported.
    private readonly HashSet<string> _brokenNames = new();
    private readonly HashSet<string> _brokenStatements = new();
    private bool _sawUnknownStatement;

    private BoundInput? _input;

    public ExperimentBinder(JepaSyntaxTree tree, ExperimentSyntax syntax, string? @namespace, DiagnosticBag diagnostics)
    {
        _tree = tree;
        _syntax = syntax;
        _namespace = @namespace;
        _diagnostics = diagnostics;
        _arguments = new ArgumentBinder(diagnostics);
    }

    private string Name => _syntax.Name.Text;

    /// <summary>The members every generated class declares, and what each is (the experiment names the class).</summary>
    internal static readonly IReadOnlyDictionary<string, string> GeneratedMembers = new Dictionary<string, string>(System.StringComparer.Ordinal)
    {
        ["Options"] = "the options record", ["Settings"] = "the options in use", ["Definition"] = "the definition for tools",
        ["ContextEncoder"] = "the context encoder", ["TargetEncoder"] = "the target encoder", ["Predictor"] = "the predictor",
        ["InputShape"] = "the input shape", ["EmbeddingWidth"] = "the embedding width", ["ParameterCount"] = "the parameter count",
        ["FlopsPerStep"] = "the FLOPs per step", ["Corrupt"] = "the corruption method", ["Encode"] = "the encoding method",
        ["TrainingStep"] = "the training step", ["MonitorEmbeddings"] = "the monitored embeddings",
    };

    private void CheckName()
    {
        if (GeneratedMembers.TryGetValue(Name, out var what))
        {
            _diagnostics.Report(DiagnosticDescriptors.ExperimentNameTaken, _syntax.Name.Span, Name, what);
        }
    }

    private Shape InputShape => _input?.Shape ?? Shape.Unknown;

    public BoundExperiment Bind()
    {
        var errorsBefore = _diagnostics.ErrorCount;
        CheckName();
        CollectStatements();
        BindInput();
        BindEncoders();
        BindCorruptions();
        BindViews();
        var objectiveState = BindObjective();
        var objective = objectiveState?.ToBound();
        var projector = BindProjector();
        var predictor = BindPredictor();
        var train = BindTrain();
        var evaluate = BindEvaluate();
        var monitor = BindMonitor();
        ReportMissingStatements();
        var usage = UsageOf(objectiveState);
        ReportWarnings(objectiveState, train, usage);

        // The passes. The pipeline's checks need an objective whose two sides bound to encoders, with a trainable
        // context: otherwise they are skipped silently (the error was reported).
        var corruptions = _corruptions.Select(c => c.ToBound(usage.Corruptions.Contains(c.Name))).ToList();
        var views = _views.Select(v => v.ToBound(usage.Views.Contains(v.Name))).ToList();
        var ready = objectiveState is { IsComplete: true, ContextTrains: true };
        var encoders = _encoders.Select(e => e.ToBound(usage.Encoders.Contains(e.Name))).ToList();
        var shapes = ShapeInference.Run(_input, encoders, corruptions, views, ready ? objective : null, projector, predictor, _diagnostics);
        if (ready)
        {
            var context = shapes.Encoders.Single(e => e.Name == objective!.Context.ResolvedEncoder);
            CollapseRule.Check(objective!, context, _diagnostics);
            SameViewRule.Check(objective!, shapes.Views, shapes.Predictor, _diagnostics);
        }

        var cost = CostEstimate.Run(_input?.Shape ?? Shape.Unknown, shapes.Encoders, shapes.Projector, shapes.Predictor, shapes.Pipeline, ready ? objective : null, train);
        if (cost.Summary?.Memory is { Total: > MemoryModel.WarningThreshold } memory)
        {
            _diagnostics.Report(DiagnosticDescriptors.TrainingMemory, cost.LargestModuleSpan ?? _syntax.Name.Span, MemoryModel.Format(memory.Total), memory.Batch,
                memory.Parts(), MemoryModel.Format(MemoryModel.WarningThreshold), memory.LargestModule, MemoryModel.Format(memory.LargestModuleBytes));
        }


        return new BoundExperiment(
            Name,
            _syntax.Span,
            _syntax.Name.Span,
            _namespace,
            _input,
            shapes.Corruptions.ToEquatableArray(),
            shapes.Views.ToEquatableArray(),
            cost.Encoders.ToEquatableArray(),
            cost.Projector,
            cost.Predictor,
            objective,
            train,
            evaluate,
            monitor,
            shapes.Pipeline,
            cost.Summary,
            _diagnostics.ErrorCount > errorsBefore);
    }

    // ---- statements and names --------------------------------------------------------------------------------------

    private void CollectStatements()
    {
        // The input's name is declared first, so a clash with it is reported on the other declaration.
        var names = new Dictionary<string, IdentifierSyntax>();
        foreach (var input in _syntax.Statements.OfType<InputStatementSyntax>())
        {
            if (Single(ref _inputSyntax, input))
            {
                names[input.Name.Text] = input.Name;
            }
        }

        foreach (var statement in _syntax.Statements)
        {
            switch (statement)
            {
                case CorruptionStatementSyntax corruption:
                    if (Declare(names, corruption.Name))
                    {
                        _corruptionSyntax.Add(corruption);
                    }

                    break;
                case EncoderStatementSyntax encoder:
                    _sawEncoderStatement = true;
                    if (Declare(names, encoder.Name))
                    {
                        _encoderSyntax.Add(encoder);
                    }

                    break;
                case ViewsStatementSyntax views:
                    if (Declare(names, views.Name))
                    {
                        _viewsSyntax.Add(views);
                    }

                    break;
                case ProjectorStatementSyntax projector:
                    Single(ref _projectorSyntax, projector);
                    break;
                case PredictorStatementSyntax predictor:
                    Single(ref _predictorSyntax, predictor);
                    break;
                case BlockSyntax { Kind: BlockKind.Objective } block:
                    Single(ref _objectiveSyntax, block);
                    break;
                case BlockSyntax { Kind: BlockKind.Train } block:
                    Single(ref _trainSyntax, block);
                    break;
                case BlockSyntax { Kind: BlockKind.Evaluate } block:
                    Single(ref _evaluateSyntax, block);
                    break;
                case BlockSyntax { Kind: BlockKind.Monitor } block:
                    Single(ref _monitorSyntax, block);
                    break;
                case ErrorStatementSyntax broken:
                    _brokenStatements.Add(broken.Keyword.Text);
                    _sawUnknownStatement |= !KnownExperimentKeywords.Contains(broken.Keyword.Text);
                    _sawEncoderStatement |= broken.Keyword.Text == "encoder";
                    if (broken.Name is { } name && !names.ContainsKey(name.Text))
                    {
                        names.Add(name.Text, name);
                        _brokenNames.Add(name.Text);
                    }

                    break;
            }
        }
    }

    /// <summary>Keeps the first of a statement that may appear once; reports the others.</summary>
    private bool Single<T>(ref T? slot, T statement)
        where T : StatementSyntax
    {
        if (slot is null)
        {
            slot = statement;
            return true;
        }

        _diagnostics.Report(DiagnosticDescriptors.DuplicateStatement, statement.Keyword.Span, $"'{statement.Keyword.Text}'", $"in experiment '{Name}'");
        return false;
    }

    private bool Declare(Dictionary<string, IdentifierSyntax> names, IdentifierSyntax name)
    {
        if (names.TryGetValue(name.Text, out var first))
        {
            _diagnostics.Report(DiagnosticDescriptors.DuplicateName, name.Span, name.Text, first.Span.StartLine + 1,
                "inputs, corruptions, views and encoders of an experiment need distinct names");
            return false;
        }

        names.Add(name.Text, name);
        return true;
    }

    private static readonly HashSet<string> KnownExperimentKeywords = new()
    {
        "input", "corruption", "views", "encoder", "projector", "predictor", "objective", "train", "evaluate", "monitor",
    };

    private void ReportMissingStatements()
    {
        if (_sawUnknownStatement)
        {
            return;
        }

        if (_inputSyntax is null && !_brokenStatements.Contains("input"))
        {
            Missing("input", "input image: float[64]; (a vector) or input image: float[1, 8, 8]; (an image)");
        }

        if (!_sawEncoderStatement)
        {
            Missing("encoder", "encoder context = mlp(hidden: [256], out: 128);");
        }

        if (_objectiveSyntax is null && !_brokenStatements.Contains("objective"))
        {
            Missing("objective", "objective { predict target(image) from context(noisy(image)); loss mse; }");
        }

        if (_trainSyntax is null && !_brokenStatements.Contains("train"))
        {
            Missing("train block", "train { optimizer adamw(lr: 1e-3); steps 1000; }");
        }

        void Missing(string what, string example) =>
            _diagnostics.Report(DiagnosticDescriptors.MissingStatement, _syntax.Name.Span, $"experiment '{Name}'", what, example);
    }

    // ---- input -----------------------------------------------------------------------------------------------------

    private void BindInput()
    {
        if (_inputSyntax is not { } syntax)
        {
            return;
        }

        var shape = Shape.Unknown;
        if (syntax.ElementType.Text != "float")
        {
            _diagnostics.Report(DiagnosticDescriptors.UnsupportedInput, syntax.ElementType.Span, $"the element type '{syntax.ElementType.Text}' is not supported (only float is)");
        }
        else if (syntax.Dimensions.Count != 1 && syntax.Dimensions.Count != 3)
        {
            var span = syntax.Dimensions.Count == 0
                ? syntax.ElementType.Span
                : SourceSpan.Cover(syntax.Dimensions[0].Span, syntax.Dimensions[syntax.Dimensions.Count - 1].Span);
            _diagnostics.Report(DiagnosticDescriptors.UnsupportedInput, span, $"an input with {syntax.Dimensions.Count} dimensions is not supported");
        }
        else
        {
            var dimension = new Parameter("dimension", ParameterType.Integer, Bounds.AtLeast(1));
            var sizes = syntax.Dimensions.Select(d => _arguments.BindValue(d, dimension, $"each dimension of input '{syntax.Name.Text}'")).ToList();
            if (sizes.All(s => s is NumberValue))
            {
                shape = Shape.Of(sizes.Select(s => (int)((NumberValue)s).Value).ToArray());
            }
        }

        _input = new BoundInput(syntax.Name.Text, syntax.Span, syntax.Name.Span, Source(syntax.Span), shape);
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private string Source(SourceSpan span) => SourceText.OneLine(_tree.Text, span, _tree.Comments);
}
