using Jepa.Dsl.Binding;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Catalog;

/// <summary>What an encoder module's shape rule sees: the input, its bound call, whether the input is an image (when
/// the module needs one; JEPA208 was reported otherwise), and where to report a shape error.</summary>
internal sealed class ModuleShapeContext
{
    private readonly DiagnosticBag _diagnostics;

    public ModuleShapeContext(Shape input, BoundCall call, bool imageOk, DiagnosticBag diagnostics)
    {
        Input = input;
        Call = call;
        ImageOk = imageOk;
        _diagnostics = diagnostics;
    }

    public Shape Input { get; }

    public BoundCall Call { get; }

    public bool ImageOk { get; }

    public void Report(DiagnosticDescriptor descriptor, SourceSpan span, params object[] args) => _diagnostics.Report(descriptor, span, args);

    /// <summary>The span of an argument (given or defaulted).</summary>
    public SourceSpan SpanOf(string parameter) => Call.Find(parameter)!.Span;
}

/// <summary>An encoder module's output on the whole input: <c>[D]</c>, or tokens <c>[N, D]</c> on a grid of patches.</summary>
internal sealed record ModuleOutput(Shape Output, bool Tokens, (int Height, int Width)? Grid = null);

/// <summary>What a predictor's shape and cost rules see: the representation mode, the context representation it
/// predicts from, the target representation it predicts, and the token counts (N, and Nc, Nt when masked).</summary>
internal sealed record PredictorShapeContext(RepresentationMode Mode, Shape Context, Shape Target, int? Tokens, (int Context, int Target)? Counts);
