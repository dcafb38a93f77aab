using System;
using System.Collections;
using System.Collections.Generic;

namespace Jepa.Generators.Model;

/// <summary>
/// An immutable array with structural equality, so that pipeline models built from it compare by value and the
/// incremental generator can cache them (the pattern of dotnet/runtime's generators).
/// </summary>
internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>
    where T : IEquatable<T>
{
    private readonly T[]? items;

    public EquatableArray(T[] items) => this.items = items;

    public static EquatableArray<T> Empty => new([]);

    public int Count => items?.Length ?? 0;

    public T this[int index] => (items ?? [])[index];

    public bool Equals(EquatableArray<T> other)
    {
        var a = items ?? [];
        var b = other.items ?? [];
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
        {
            if (!a[i].Equals(b[i])) return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

    public override int GetHashCode()
    {
        unchecked
        {
            int hash = 17;
            foreach (var item in items ?? []) hash = hash * 31 + item.GetHashCode();
            return hash;
        }
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(items ?? [])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public static bool operator ==(EquatableArray<T> left, EquatableArray<T> right) => left.Equals(right);

    public static bool operator !=(EquatableArray<T> left, EquatableArray<T> right) => !left.Equals(right);
}

internal static class EquatableArray
{
    public static EquatableArray<T> ToEquatableArray<T>(this IEnumerable<T> items) where T : IEquatable<T> => new([.. items]);
}
