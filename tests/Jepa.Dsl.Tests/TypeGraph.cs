using System.Reflection;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Collections;

namespace Jepa.Dsl.Tests;

/// <summary>
/// Walks the fields of every type reachable from a root type and lists what is not plain immutable data with value
/// equality: a type outside the given namespaces (a syntax node, an array, a mutable collection), a class that is not a
/// record, a mutable field. Leaves are what <c>isLeaf</c> accepts.
/// </summary>
internal static class TypeGraph
{
    public static (HashSet<Type> Seen, List<string> Problems) Walk(Type root, Func<Type, bool> isLeaf, params string[] namespaces)
    {
        var seen = new HashSet<Type>();
        var problems = new List<string>();
        Walk(root, root.Name, isLeaf, namespaces, seen, problems);
        return (seen, problems);
    }

    private static void Walk(Type type, string path, Func<Type, bool> isLeaf, string[] namespaces, HashSet<Type> seen, List<string> problems)
    {
        if (isLeaf(type) || !seen.Add(type))
        {
            return;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            Walk(underlying, path, isLeaf, namespaces, seen, problems);
            return;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(EquatableArray<>))
        {
            Walk(type.GetGenericArguments()[0], path + "[]", isLeaf, namespaces, seen, problems);
            return;
        }

        if (type.IsGenericType && type.FullName!.StartsWith("System.ValueTuple", StringComparison.Ordinal))
        {
            foreach (var argument in type.GetGenericArguments())
            {
                Walk(argument, path + ".Item", isLeaf, namespaces, seen, problems);
            }

            return;
        }

        if (!namespaces.Contains(type.Namespace))
        {
            problems.Add($"{path}: {type} is not part of the bound model");
            return;
        }

        if (type.GetMethod("<Clone>$") is null)
        {
            problems.Add($"{path}: {type.Name} is not a record");
        }

        foreach (var derived in typeof(BoundValue).Assembly.GetTypes().Where(t => t.BaseType == type))
        {
            Walk(derived, path + "<" + derived.Name + ">", isLeaf, namespaces, seen, problems);
        }

        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            if (field.Name == "EqualityContract" || field.FieldType == typeof(Type))
            {
                continue;
            }

            if (!field.IsInitOnly)
            {
                problems.Add($"{path}.{field.Name} is mutable");
            }

            Walk(field.FieldType, path + "." + field.Name, isLeaf, namespaces, seen, problems);
        }
    }
}
