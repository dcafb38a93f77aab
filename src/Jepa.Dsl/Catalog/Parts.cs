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

    public static readonly OptionSet NormOptions = new("global::Jepa.Runtime.Models.Norm", "none", "layer", "batch");

    public static readonly OptionSet ActivationOptions = new("global::Jepa.Runtime.Models.Activation", "gelu", "relu", "silu", "tanh");

    public static readonly OptionSet PoolOptions = new("global::Jepa.Runtime.Models.Pool", "mean", "max");

    public static readonly OptionSet TokenPoolOptions = new("global::Jepa.Runtime.Models.Pool", "mean");

    public static readonly OptionSet TargetNormOptions = new(null, "none", "layer");

    public static readonly OptionSet CollapseActions = new("global::Jepa.Runtime.Training.CollapseAction", "warn", "stop");

    public static Parameter Hidden() => new("hidden", ParameterType.IntegerList, AtLeastOne, L());

    public static Parameter Norm() => Option("norm", "none", NormOptions);

    public static Parameter Activation() => Option("act", "gelu", ActivationOptions);

    /// <summary>A loss's <c>target_norm</c>: read by the training step (layer-normalise the target), not an option.</summary>
    public static Parameter TargetNorm() => new("target_norm", ParameterType.Option, @default: new OptionValue("none"), options: TargetNormOptions) { IsOption = false };
}
