using System;
using System.Globalization;
using System.Linq;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Binding;

/// <summary>The type a parameter declares; tells the emitter which C# type to use.</summary>
public enum ParameterType
{
    /// <summary>A whole number (C# <c>int</c>).</summary>
    Integer,

    /// <summary>A number (C# <c>double</c>).</summary>
    Number,

    /// <summary>A list of whole numbers.</summary>
    IntegerList,

    /// <summary>A list of numbers.</summary>
    NumberList,

    /// <summary>A closed range <c>a..b</c>.</summary>
    Range,

    /// <summary>A number, or a linear schedule <c>a -> b</c> over training.</summary>
    NumberOrSchedule,

    /// <summary>One of a fixed set of names (<c>layer</c>, <c>mean</c>, <c>warn</c>).</summary>
    Option,

    /// <summary><c>true</c> or <c>false</c>.</summary>
    Boolean,

    /// <summary>Any number, list of numbers or boolean (arguments of a C# encoder).</summary>
    Any,
}

/// <summary>A resolved value.</summary>
public abstract record BoundValue
{
    /// <summary>The value as the language writes it.</summary>
    public abstract string Display { get; }

    public sealed override string ToString() => Display;

    internal static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A number; <see cref="IsInteger"/> when it is a whole number.</summary>
public sealed record NumberValue(double Value) : BoundValue
{
    public bool IsInteger => Math.Floor(Value) == Value && Math.Abs(Value) <= int.MaxValue;

    public override string Display => Format(Value);
}

/// <summary>A closed range <c>Low..High</c>.</summary>
public sealed record RangeValue(double Low, double High) : BoundValue
{
    public override string Display => $"{Format(Low)}..{Format(High)}";
}

/// <summary>A linear schedule <c>Start -> End</c> over training.</summary>
public sealed record ScheduleValue(double Start, double End) : BoundValue
{
    public override string Display => $"{Format(Start)} -> {Format(End)}";
}

/// <summary>A list.</summary>
public sealed record ListValue(EquatableArray<BoundValue> Items) : BoundValue
{
    public override string Display => "[" + string.Join(", ", Items.Select(i => i.Display)) + "]";
}

/// <summary>An option name such as <c>layer</c> or <c>warn</c>.</summary>
public sealed record OptionValue(string Name) : BoundValue
{
    public override string Display => Name;
}

/// <summary><c>true</c> or <c>false</c>.</summary>
public sealed record BooleanValue(bool Value) : BoundValue
{
    public override string Display => Value ? "true" : "false";
}

/// <summary>A value that failed to bind; a diagnostic has been reported for it.</summary>
public sealed record ErrorValue : BoundValue
{
    public static ErrorValue Instance { get; } = new();

    public override string Display => "<error>";
}

/// <summary>One parameter of a call, resolved: either given in the file or filled in from its default.</summary>
public sealed record BoundArgument(string Name, ParameterType Type, BoundValue Value, bool IsDefault, SourceSpan Span)
{
    public override string ToString() => $"{Name}: {Value.Display}";
}

/// <summary>
/// A call to a built-in with every parameter resolved, in the order the built-in declares them, defaults included.
/// Optional parameters without a default (<c>vit</c>'s <c>pool</c>, <c>clip</c>) are absent unless given.
/// <see cref="Builtin"/> is the catalog's description of the function, attached by the binder (null for an unknown one).
/// </summary>
public sealed record BoundCall(string Function, SourceSpan Span, EquatableArray<BoundArgument> Arguments, bool HasErrors, Builtin? Builtin = null)
{
    public BoundArgument? Find(string name) => Arguments.FirstOrDefault(a => a.Name == name);

    public BoundValue? Value(string name) => Find(name)?.Value;

    public int? GetInt(string name) => Value(name) is NumberValue { IsInteger: true } n ? (int)n.Value : null;

    public double? GetNumber(string name) => Value(name) is NumberValue n ? n.Value : null;

    public string? GetOption(string name) => Value(name) is OptionValue o ? o.Name : null;

    public bool? GetBool(string name) => Value(name) is BooleanValue b ? b.Value : null;

    public (double Low, double High)? GetRange(string name) => Value(name) is RangeValue r ? (r.Low, r.High) : null;

    /// <summary>A number or schedule as (start, end); a plain number is constant.</summary>
    public (double Start, double End)? GetRamp(string name) => Value(name) switch
    {
        NumberValue n => (n.Value, n.Value),
        ScheduleValue s => (s.Start, s.End),
        _ => null,
    };

    /// <summary>A list of whole numbers, or null when it failed to bind.</summary>
    public EquatableArray<int>? GetIntList(string name) =>
        Value(name) is ListValue list && list.Items.All(i => i is NumberValue { IsInteger: true })
            ? list.Items.Select(i => (int)((NumberValue)i).Value).ToEquatableArray()
            : null;

    /// <summary>A list of numbers, or null when it failed to bind.</summary>
    public EquatableArray<double>? GetNumberList(string name) =>
        Value(name) is ListValue list && list.Items.All(i => i is NumberValue)
            ? list.Items.Select(i => ((NumberValue)i).Value).ToEquatableArray()
            : null;

    public override string ToString() => Function + "(" + string.Join(", ", Arguments.Select(a => a.ToString())) + ")";
}
