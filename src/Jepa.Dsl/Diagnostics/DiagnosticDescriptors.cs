using System.Collections.Generic;

namespace Jepa.Dsl.Diagnostics;

/// <summary>
/// The catalog of every diagnostic the Jepa compiler and generator report. Ids are stable and never reused:
/// JEPA0xx syntax, 1xx names and parameters, 2xx shapes, 3xx training and collapse, 9xx internal errors.
/// docs/diagnostics.md has a wrong and a right example for each id.
/// </summary>
public static class DiagnosticDescriptors
{
    private const string Syntax = "Syntax";
    private const string Names = "Names";
    private const string Parameters = "Parameters";
    private const string Shapes = "Shapes";
    private const string Training = "Training";
    private const string Collapse = "Collapse";
    private const string Internal = "Internal";

    // ---- 0xx: syntax -------------------------------------------------------------------------------------------

    public static readonly DiagnosticDescriptor SyntaxError = new(
        "JEPA001", "Syntax error", "unexpected {0}; expected {1}", Severity.Error, Syntax);

    public static readonly DiagnosticDescriptor UnknownStatement = new(
        "JEPA002", "Unknown statement", "'{0}' is not a statement {1}; {2}", Severity.Error, Syntax);

    public static readonly DiagnosticDescriptor UnterminatedComment = new(
        "JEPA003", "Unterminated comment", "this /* comment is never closed; end it with */", Severity.Error, Syntax);

    public static readonly DiagnosticDescriptor NoExperiment = new(
        "JEPA004", "No experiment", "the file declares no experiment; add one: experiment Name {{ ... }}", Severity.Error, Syntax);

    public static readonly DiagnosticDescriptor NumberOutOfRange = new(
        "JEPA005", "Number out of range", "the number {0} is too large to represent", Severity.Error, Syntax);

    // ---- 1xx: names and parameters -----------------------------------------------------------------------------

    public static readonly DiagnosticDescriptor UnknownFunction = new(
        "JEPA101", "Unknown name", "unknown {0} '{1}'; {2}", Severity.Error, Names);

    public static readonly DiagnosticDescriptor UnknownParameter = new(
        "JEPA102", "Unknown parameter", "{0} has no parameter '{1}'; {2}", Severity.Error, Parameters);

    public static readonly DiagnosticDescriptor MissingParameter = new(
        "JEPA103", "Missing parameter", "{0} is missing the parameter '{1}' ({2}); {3}", Severity.Error, Parameters);

    public static readonly DiagnosticDescriptor WrongValueType = new(
        "JEPA104", "Wrong value type", "{0} must be {1}, not {2}", Severity.Error, Parameters);

    public static readonly DiagnosticDescriptor ValueOutOfRange = new(
        "JEPA105", "Value out of range", "{0} must be {1}; {2} is not", Severity.Error, Parameters);

    public static readonly DiagnosticDescriptor DuplicateArgument = new(
        "JEPA106", "Duplicate argument", "'{0}' is given more than once in {1}; keep one", Severity.Error, Parameters);

    public static readonly DiagnosticDescriptor EmptyRange = new(
        "JEPA107", "Empty range", "the range {0}..{1} is empty: its start must not exceed its end", Severity.Error, Parameters);

    public static readonly DiagnosticDescriptor PositionalArgument = new(
        "JEPA108", "Positional argument", "{0} takes no positional argument here; {1}", Severity.Error, Parameters);

    public static readonly DiagnosticDescriptor DuplicateName = new(
        "JEPA109", "Duplicate name", "'{0}' is already declared on line {1}; {2}", Severity.Error, Names);

    public static readonly DiagnosticDescriptor DuplicateStatement = new(
        "JEPA110", "Duplicate statement", "{0} appears more than once {1}; keep one", Severity.Error, Names);

    public static readonly DiagnosticDescriptor MissingStatement = new(
        "JEPA111", "Missing statement", "{0} has no {1}; add {2}", Severity.Error, Names);

    public static readonly DiagnosticDescriptor UnknownReference = new(
        "JEPA112", "Unknown reference", "experiment '{0}' has no {1} named '{2}'; {3}", Severity.Error, Names);

    public static readonly DiagnosticDescriptor NotTheInput = new(
        "JEPA113", "Not the input", "'{0}' is not the input of experiment '{1}'; its input is '{2}'", Severity.Error, Names);

    public static readonly DiagnosticDescriptor MalformedApplication = new(
        "JEPA114", "Malformed application",
        "{0} is not an application of an encoder; write ENCODER(INPUT), ENCODER(CORRUPTION(INPUT)) or ENCODER(VIEWS(INPUT)), as in context(masked(image)) or net(crops.global(image))",
        Severity.Error, Names);

    public static readonly DiagnosticDescriptor ConflictingArguments = new(
        "JEPA115", "Conflicting arguments", "{0} and {1} cannot both be given; keep one", Severity.Error, Parameters);

    public static readonly DiagnosticDescriptor InvalidWrappedEncoder = new(
        "JEPA116", "Invalid wrapped encoder", "{0} refers to '{1}', which is {2}; {3}", Severity.Error, Names);

    public static readonly DiagnosticDescriptor EncoderCycle = new(
        "JEPA117", "Encoder reference cycle", "encoder '{0}' refers back to itself ({1}); an encoder must end in mlp, conv, vit or a C# type",
        Severity.Error, Names);

    public static readonly DiagnosticDescriptor UnknownOptionValue = new(
        "JEPA118", "Unknown option value", "{0} must be one of {1}; '{2}' is not{3}", Severity.Error, Parameters);

    public static readonly DiagnosticDescriptor ExperimentNameTaken = new(
        "JEPA119", "Experiment name taken by its generated class",
        "'{0}' cannot name an experiment: its generated class declares a member {0} ({1}), and a C# member cannot have its class's name; rename the experiment, e.g. '{0}Jepa'",
        Severity.Error, Names);

    /// <summary>Reported by the generator, which can see the C# compilation.</summary>
    public static readonly DiagnosticDescriptor CustomEncoderTypeNotFound = new(
        "JEPA150", "C# encoder type not found",
        "the C# type '{0}' named by encoder '{1}' does not exist; check its namespace and that the project references its assembly",
        Severity.Error, Names);

    /// <summary>Reported by the generator, which can see the C# compilation.</summary>
    public static readonly DiagnosticDescriptor CustomEncoderWrongBase = new(
        "JEPA151", "C# encoder type has the wrong base type",
        "the C# type '{0}' named by encoder '{1}' must derive from TorchSharp.Modules.Module<Tensor, Tensor> (torch.nn.Module<Tensor, Tensor>): an encoder maps a tensor to a tensor",
        Severity.Error, Names);

    /// <summary>Reported by the generator, which can see the C# compilation.</summary>
    public static readonly DiagnosticDescriptor CustomEncoderNoConstructor = new(
        "JEPA152", "C# encoder type has no fitting constructor",
        "the C# type '{0}' has no public constructor that accepts {1}; add one, or change the arguments of encoder '{2}'",
        Severity.Error, Names);

    /// <summary>Reported by the generator, which sees every <c>.jepa</c> file of the project.</summary>
    public static readonly DiagnosticDescriptor ExperimentDeclaredTwice = new(
        "JEPA153", "Experiment declared in another file",
        "experiment '{0}' is already declared in {1}; both would generate the class {2}; rename one of them, or put one file in another namespace",
        Severity.Error, Names);

    /// <summary>Reported by <c>jepa export --target pytorch</c>, which prints the PyTorch program of an experiment.</summary>
    public static readonly DiagnosticDescriptor NotSupportedByPyTorch = new(
        "JEPA154", "Not supported by the PyTorch target",
        "{0}; the PyTorch target cannot export experiment '{1}' (it trains in .NET with jepa train)",
        Severity.Error, Names);

    /// <summary>Reported by the binder when mean(...) wraps a side without views.</summary>
    public static readonly DiagnosticDescriptor MisplacedMean = new(
        "JEPA120", "mean(...) without views on the target side",
        "mean(...) averages the target representations of several views, so it wraps the target side's application of views, as in predict mean(net(crops.global(image))) from net(crops(image)); {0}",
        Severity.Error, Names);

    // ---- 2xx: shapes -------------------------------------------------------------------------------------------

    public static readonly DiagnosticDescriptor UnsupportedInput = new(
        "JEPA201", "Unsupported input", "{0}; declare float[d] (a vector) or float[c, h, w] (an image)", Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor PatchDoesNotDivide = new(
        "JEPA202", "Patch does not divide the image", "patch {0} does not divide the image size {1}x{2}; choose a patch that divides both",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor HeadsDoNotDivide = new(
        "JEPA203", "Width not divisible by heads", "{0}: dim {1} is not divisible by heads {2}; every head needs dim / heads features",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor ConvTooDeep = new(
        "JEPA204", "Conv stack shrinks the image away",
        "conv stage {0} of {1} leaves a {2}x{3} image (each stage pools by 2); use fewer channel stages or a larger input",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor PredictionShapeMismatch = new(
        "JEPA205", "Prediction shape mismatch", "{0}; the prediction must have the shape of the target representation {1}",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor TokenMaskWithoutTokenEncoder = new(
        "JEPA206", "Token mask without a token encoder",
        "{0} selects tokens, so the context side needs a token encoder (vit without pool), but '{1}' outputs {2}",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor TokenMaskNotLast = new(
        "JEPA207", "Token mask is not the last link",
        "{0} is a token mask here and must be the last link of its corruption chain: pixel corruptions come first, then the mask is sampled",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor NeedsImageInput = new(
        "JEPA208", "Needs an image input", "{0} needs an image input float[c, h, w], but input '{1}' is float{2}",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor InfoNceOnTokens = new(
        "JEPA209", "info_nce on tokens",
        "info_nce compares one vector per sample, but the {0} is tokens {1}; pool the encoder (vit(..., pool: mean)) or use another loss",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor TransformerWithoutTokenMask = new(
        "JEPA210", "Transformer predictor without masked tokens",
        "predictor transformer(...) predicts masked tokens, so it needs a token encoder (vit without pool) on the context side and a token mask (block_mask or random_mask) in its corruption; {0}",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor PredictorCannotLocateTargets = new(
        "JEPA211", "Predictor cannot locate the masked tokens",
        "{0} cannot predict the masked target tokens: it does not know their positions; use predictor = transformer(dim: ..., depth: ..., heads: ...)",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor BarlowTwinsWidthMismatch = new(
        "JEPA212", "barlow_twins widths differ",
        "barlow_twins correlates the context features (width {0}) with the target features (width {1}); the widths must be equal",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor TokenMaskOnTarget = new(
        "JEPA213", "Token mask on the target side",
        "corruption '{0}' holds a token mask ({1}), which belongs on the context side; the target encoder sees the whole input",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor TargetNotOnTokenGrid = new(
        "JEPA214", "Target tokens off the context grid",
        "masked token prediction needs the target encoder's tokens on the context's grid of {0} tokens, but target '{1}' outputs {2}",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor NeedsColourInput = new(
        "JEPA215", "Needs 3 colour channels", "{0} needs 3 colour channels (R, G, B), but input '{1}' has {2}; {3}",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor ViewSizeNotAccepted = new(
        "JEPA216", "View of another size",
        "{0} gives {1}x{2} images, but encoder '{3}' ({4}) takes only the input's {5}x{6}; use a conv encoder, which pools globally, or crops of the input's size",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor GroupsDoNotDivide = new(
        "JEPA217", "Groups do not divide the channels",
        "conv: {0} groups do not divide the {2} channels of stage {1}; group norm needs groups that divide every stage's channels",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor TokenMaskInViews = new(
        "JEPA218", "Token mask in views",
        "views take no token mask: {0}; mask pixels with pixel_block_mask or pixel_random_mask, or use a corruption without views",
        Severity.Error, Shapes);

    public static readonly DiagnosticDescriptor ProjectorNeedsWidth = new(
        "JEPA219", "Projector on an encoder of unknown width",
        "the projector needs the output width of encoder '{0}', a C# encoder without out:; give it out: N",
        Severity.Error, Shapes);

    // ---- 3xx: training and collapse ----------------------------------------------------------------------------

    public static readonly DiagnosticDescriptor CollapseProneObjective = new(
        "JEPA301", "Collapse-prone objective",
        "this objective collapses: {0} between the context and a target that {1} is minimised by a constant representation (every input mapped to the same vector), and nothing prevents it; fix it in one of three ways: make the target an EMA or stop-gradient copy (encoder target = ema(context); or stopgrad(context)), use the contrastive loss info_nce, or add a regularizer (regularize vicreg; or barlow_twins or sigreg)",
        Severity.Error, Collapse);

    public static readonly DiagnosticDescriptor TargetWrapsOtherEncoder = new(
        "JEPA302", "Target copies another encoder",
        "the target '{0}' is {1} of '{2}', but the context side runs '{3}'; the target must copy the context encoder",
        Severity.Error, Collapse);

    public static readonly DiagnosticDescriptor EmaMomentumDecreases = new(
        "JEPA303", "EMA momentum ends below its start",
        "the EMA momentum schedule {0} -> {1} ends below its start; momentum usually rises towards 1 as training settles",
        Severity.Warning, Training);

    public static readonly DiagnosticDescriptor SmallBatchStatistics = new(
        "JEPA304", "Batch too small for batch statistics",
        "{0} estimates variances and covariances over the batch, and statistics from fewer than 64 samples are noisy (batch {1}); use batch 64 or more",
        Severity.Warning, Training);

    public static readonly DiagnosticDescriptor WarmupLongerThanTraining = new(
        "JEPA305", "Warm-up longer than training",
        "the warm-up ({0}) is longer than training ({1}); the learning rate never reaches its peak",
        Severity.Warning, Training);

    public static readonly DiagnosticDescriptor UnusedCorruption = new(
        "JEPA306", "Unused corruption", "corruption '{0}' is never used in the objective", Severity.Warning, Training);

    public static readonly DiagnosticDescriptor UnusedEncoder = new(
        "JEPA307", "Unused encoder", "encoder '{0}' is never used in the objective", Severity.Warning, Training);

    public static readonly DiagnosticDescriptor TrainingLength = new(
        "JEPA308", "Training length", "{0}; train needs exactly one of epochs N; or steps N;", Severity.Error, Training);

    public static readonly DiagnosticDescriptor LrScheduleWithWarmupCosine = new(
        "JEPA309", "lr schedule under warmup_cosine",
        "lr is the schedule {0}, but schedule warmup_cosine already shapes the learning rate; give lr one number (the peak), or use schedule constant",
        Severity.Error, Training);

    public static readonly DiagnosticDescriptor ContextNotTrainable = new(
        "JEPA310", "Context side not trainable",
        "the context side runs '{0}', which is {1}; the context encoder must be trainable (mlp, conv, vit or a C# type)",
        Severity.Error, Collapse);

    public static readonly DiagnosticDescriptor SameViewOnBothSides = new(
        "JEPA311", "The same view on both sides",
        "{0}: nothing is learnt; {1}",
        Severity.Error, Collapse);

    public static readonly DiagnosticDescriptor UnusedViews = new(
        "JEPA312", "Unused views", "views '{0}' are never used in the objective", Severity.Warning, Training);

    public static readonly DiagnosticDescriptor TrainingMemory = new(
        "JEPA313", "Training needs much memory",
        "training needs about {0} (estimated at batch {1}: {2}), more than {3}; the largest part is the {4}, {5}; make the model smaller or the batch lower",
        Severity.Warning, Training);

    // ---- 9xx: internal errors ----------------------------------------------------------------------------------

    public static readonly DiagnosticDescriptor GeneratorInternalError = new(
        "JEPA901", "Internal error in the generator", "internal error in the Jepa generator: {0}", Severity.Error, Internal);

    public static readonly DiagnosticDescriptor EmitterInternalError = new(
        "JEPA902", "Internal error in the emitter", "internal error in the Jepa emitter: {0}", Severity.Error, Internal);

    public static readonly DiagnosticDescriptor CompilerInternalError = new(
        "JEPA903", "Internal error in the compiler", "internal error in the Jepa compiler: {0}", Severity.Error, Internal);

    /// <summary>Every descriptor, ordered by id.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } = new[]
    {
        SyntaxError, UnknownStatement, UnterminatedComment, NoExperiment, NumberOutOfRange,
        UnknownFunction, UnknownParameter, MissingParameter, WrongValueType, ValueOutOfRange, DuplicateArgument, EmptyRange,
        PositionalArgument, DuplicateName, DuplicateStatement, MissingStatement, UnknownReference, NotTheInput,
        MalformedApplication, ConflictingArguments, InvalidWrappedEncoder, EncoderCycle, UnknownOptionValue, ExperimentNameTaken,
        MisplacedMean,
        CustomEncoderTypeNotFound, CustomEncoderWrongBase, CustomEncoderNoConstructor, ExperimentDeclaredTwice, NotSupportedByPyTorch,
        UnsupportedInput, PatchDoesNotDivide, HeadsDoNotDivide, ConvTooDeep, PredictionShapeMismatch,
        TokenMaskWithoutTokenEncoder, TokenMaskNotLast, NeedsImageInput, InfoNceOnTokens, TransformerWithoutTokenMask,
        PredictorCannotLocateTargets, BarlowTwinsWidthMismatch, TokenMaskOnTarget, TargetNotOnTokenGrid,
        NeedsColourInput, ViewSizeNotAccepted, GroupsDoNotDivide, TokenMaskInViews, ProjectorNeedsWidth,
        CollapseProneObjective, TargetWrapsOtherEncoder, EmaMomentumDecreases, SmallBatchStatistics,
        WarmupLongerThanTraining, UnusedCorruption, UnusedEncoder, TrainingLength, LrScheduleWithWarmupCosine,
        ContextNotTrainable, SameViewOnBothSides, UnusedViews,
        TrainingMemory,
        GeneratorInternalError, EmitterInternalError, CompilerInternalError,
    };
}
