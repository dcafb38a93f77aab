using System.Linq;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Collections;

namespace Jepa.Dsl.Catalog;

/// <summary>The bounds, parameter shapes and option sets the catalog's entries are built from.</summary>
internal static class Parts
{
    public static readonly Bounds Positive = Bounds.Above(0);
    public static readonly Bounds NonNegative = Bounds.AtLeast(0);
    public static readonly Bounds AtLeastOne = Bounds.AtLeast(1);
    public static readonly Bounds OpenUnit = Bounds.Between(0, false, 1, false);
    public static readonly Bounds HalfOpenUnit = Bounds.Between(0, true, 1, false);
    public static readonly Bounds UnitFromAbove = Bounds.Between(0, false, 1, true);
    public static readonly Bounds Unit = Bounds.Between(0, true, 1, true);

    public static NumberValue N(double value) => new(value);

    public static RangeValue R(double low, double high) => new(low, high);

    public static ListValue L(params double[] items) => new(items.Select(i => (BoundValue)new NumberValue(i)).ToEquatableArray());

    public static Parameter Int(string name, Bounds bounds, double? @default = null, bool required = false, string? note = null) =>
        new(name, ParameterType.Integer, bounds, @default is { } d ? N(d) : null, required, note: note);

    public static Parameter Num(string name, Bounds bounds, double? @default = null, bool required = false, string? note = null) =>
        new(name, ParameterType.Number, bounds, @default is { } d ? N(d) : null, required, note: note);

    public static Parameter Range(string name, Bounds bounds, (double Low, double High)? @default = null, bool required = false, string? note = null) =>
        new(name, ParameterType.Range, bounds, @default is { } d ? R(d.Low, d.High) : null, required, note: note);

    public static Parameter Option(string name, string @default, OptionSet options) =>
        new(name, ParameterType.Option, @default: new OptionValue(@default), options: options);

    public static Parameter Ramp(string name, Bounds bounds, double? @default = null, bool required = false, string? note = null) =>
        new(name, ParameterType.NumberOrSchedule, bounds, @default is { } d ? N(d) : null, required, note: note);

    private static System.Collections.Generic.Dictionary<string, string> BatchNormCouples() =>
        new() { ["batch"] = "batch norm normalises with statistics over the batch" };

    public static readonly OptionSet NormOptions = new("global::Jepa.Runtime.Models.Norm", "none", "layer", "batch")
    {
        CouplesSamples = BatchNormCouples(),
    };

    public static readonly OptionSet ConvNormOptions = new("global::Jepa.Runtime.Models.Norm", "none", "batch", "group", "layer")
    {
        CouplesSamples = BatchNormCouples(),
    };

    /// <summary>The option value of a norm that couples the samples of a batch.</summary>
    public static readonly string[] BatchNorm = { "batch" };

    public static readonly OptionSet ActivationOptions = new("global::Jepa.Runtime.Models.Activation", "gelu", "relu", "silu", "tanh");

    public static readonly OptionSet PoolOptions = new("global::Jepa.Runtime.Models.Pool", "mean", "max");

    public static readonly OptionSet TokenPoolOptions = new("global::Jepa.Runtime.Models.Pool", "mean");

    public static readonly OptionSet TargetNormOptions = new(null, "none", "layer");

    public static readonly OptionSet CollapseActions = new("global::Jepa.Runtime.Training.CollapseAction", "warn", "stop");

    /// <summary>A device's PyTorch mapping: the program takes its device when it runs (<c>--device</c>).</summary>
    public static readonly PythonMember ChosenWhenRun = PythonMember.NotInProgram("the PyTorch program's device is chosen when it runs (--device cpu|cuda|auto)");

    /// <summary>A probe's PyTorch mapping: evaluation runs in .NET on the program's checkpoint.</summary>
    public static readonly PythonMember EvaluatedInDotNet = PythonMember.NotInProgram("the probes run in .NET on the program's checkpoint (jepa evaluate)");

    public static Parameter Hidden() => new("hidden", ParameterType.IntegerList, AtLeastOne, L());

    public static Parameter Norm() => new("norm", ParameterType.Option, @default: new OptionValue("none"), options: NormOptions) { CouplingOptions = BatchNorm };

    public static Parameter ConvNorm() => new("norm", ParameterType.Option, @default: new OptionValue("none"), options: ConvNormOptions) { CouplingOptions = BatchNorm };

    /// <summary>A probability that the link applies to a sample, in [0, 1].</summary>
    public static Parameter P(double @default) => Num("p", Unit, @default);

    /// <summary>An image size, an integer n or [h, w], each >= 1; absent: the input's size.</summary>
    public static Parameter Size(string note) => new("size", ParameterType.Size, AtLeastOne, length: 2) { DefaultNote = note };

    /// <summary>Any finite number (a fill value).</summary>
    public static Parameter Any(string name, double @default) => new(name, ParameterType.Number, null, N(@default));

    public static Parameter Activation() => Option("act", "gelu", ActivationOptions);

    /// <summary>A loss's <c>target_norm</c>: read by the training step (layer-normalise the target), not an option.</summary>
    public static Parameter TargetNorm() => new("target_norm", ParameterType.Option, @default: new OptionValue("none"), options: TargetNormOptions) { IsOption = false };
}
