using System.Linq;
using Jepa.Dsl.Collections;

namespace Jepa.Dsl.Binding;

/// <summary>One dimension of a shape: a size, and for the token counts of a masked batch a symbol (<c>Nc</c>,
/// <c>Nt</c>) whose size is the estimate of docs/models.md.</summary>
public readonly record struct Dim(int Size, string? Symbol = null)
{
    public override string ToString() => Symbol ?? Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A shape without the batch dimension, such as <c>[1, 8, 8]</c>, <c>[64]</c> or <c>[Nt, 64]</c>; or unknown
/// (a C# encoder without <c>out:</c>, or an erroneous node), which silently suppresses the checks that need it.</summary>
public sealed record Shape(EquatableArray<Dim> Dims, bool IsKnown)
{
    public static Shape Unknown { get; } = new(default, false);

    public static Shape Of(params int[] sizes) => new(sizes.Select(s => new Dim(s)).ToEquatableArray(), true);

    public static Shape Of(params Dim[] dims) => new(dims.ToEquatableArray(), true);

    public int Rank => Dims.Count;

    /// <summary>The last dimension (the feature width of a representation), when known.</summary>
    public int? Width => IsKnown && Rank > 0 ? Dims[Rank - 1].Size : null;

    /// <summary>True for a representation of tokens <c>[N, D]</c>.</summary>
    public bool IsTokens => IsKnown && Rank == 2;

    /// <summary>The number of elements (sizes multiplied).</summary>
    public long Elements => Dims.Aggregate(1L, (product, dim) => product * dim.Size);

    public override string ToString() => IsKnown ? "[" + string.Join(", ", Dims.Select(d => d.ToString())) + "]" : "[?]";

    /// <summary>The shape with the batch dimension in front, for comments: <c>(B, 1, 8, 8)</c>, <c>(B, ?)</c> when unknown.</summary>
    public string WithBatch() => IsKnown ? "(B" + string.Concat(Dims.Select(d => ", " + d)) + ")" : "(B, ?)";
}
