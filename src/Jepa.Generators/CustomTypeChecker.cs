using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Generators.Model;
using Microsoft.CodeAnalysis;
using DiagnosticDescriptor = Jepa.Dsl.Diagnostics.DiagnosticDescriptor;

namespace Jepa.Generators;

/// <summary>The kind of a custom encoder's argument value, as the generated code passes it.</summary>
internal static class ArgumentKinds
{
    public const string Integer = "int";
    public const string Number = "double";
    public const string Boolean = "bool";
    public const string IntegerList = "IReadOnlyList<int>";
    public const string NumberList = "IReadOnlyList<double>";

    public static string Of(BoundValue value) => value switch
    {
        NumberValue { IsInteger: true } => Integer,
        NumberValue => Number,
        BooleanValue => Boolean,
        ListValue l when l.Items.All(i => i is NumberValue { IsInteger: true }) => IntegerList,
        ListValue => NumberList,
        _ => "?",
    };
}

/// <summary>
/// Checks the C# encoders a <c>.jepa</c> file names against the compilation: the type exists, derives from
/// TorchSharp's <c>Module&lt;Tensor, Tensor&gt;</c>, and has a public constructor that takes the named arguments as the
/// generated code passes them. Each problem becomes a diagnostic at the type name in the <c>.jepa</c> file, instead of
/// a CS error inside a generated file.
/// </summary>
internal static class CustomTypeChecker
{
    public static EquatableArray<DiagnosticInfo> Check(EquatableArray<CustomTypeInfo> types, Compilation compilation, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        foreach (var type in types)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                FileCompiler.FaultInjection.Value?.Invoke("custom-types", type.Span.Path);
                if (CheckOne(type, compilation) is { } diagnostic) diagnostics.Add(diagnostic);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // A generator never throws: the failure becomes a located error at the type name.
                diagnostics.Add(new DiagnosticInfo(
                    DiagnosticDescriptors.GeneratorInternalError.Id, DiagnosticDescriptors.GeneratorInternalError.Title,
                    DiagnosticDescriptors.GeneratorInternalError.FormatMessage($"{exception.GetType().Name}: {exception.Message}"),
                    DiagnosticSeverity.Error, DiagnosticDescriptors.GeneratorInternalError.Category, type.Span));
            }
        }

        return diagnostics.ToEquatableArray();
    }

    private static DiagnosticInfo? CheckOne(CustomTypeInfo type, Compilation compilation)
    {
        var symbol = Resolve(compilation, type.TypeName);
        if (symbol is null) return Create(DiagnosticDescriptors.CustomEncoderTypeNotFound, type, type.TypeName, type.Encoder);
        if (!DerivesFromTensorModule(symbol)) return Create(DiagnosticDescriptors.CustomEncoderWrongBase, type, type.TypeName, type.Encoder);
        if (symbol.InstanceConstructors.Any(c => c.DeclaredAccessibility == Accessibility.Public && Fits(c, type.Arguments))) return null;
        var arguments = type.Arguments.Count == 0
            ? "no arguments"
            : string.Join(", ", type.Arguments.Select(a => $"{a.Name}: {a.Kind}"));
        return Create(DiagnosticDescriptors.CustomEncoderNoConstructor, type, type.TypeName, arguments, type.Encoder);
    }

    /// <summary>Finds a type by its dotted name; a nested type may be written with dots too.</summary>
    private static INamedTypeSymbol? Resolve(Compilation compilation, string name)
    {
        var candidate = name;
        while (true)
        {
            if (compilation.GetTypeByMetadataName(candidate) is { } symbol) return symbol;
            var dot = candidate.LastIndexOf('.');
            if (dot < 0) return null;
            candidate = candidate.Substring(0, dot) + "+" + candidate.Substring(dot + 1);
        }
    }

    private static bool DerivesFromTensorModule(INamedTypeSymbol type)
    {
        for (var current = type.BaseType; current is not null; current = current.BaseType)
        {
            if (current is { Name: "Module", Arity: 2 } &&
                current.ContainingType is { Name: "nn", ContainingType: { Name: "torch", ContainingNamespace.Name: "TorchSharp" } } &&
                current.TypeArguments.All(IsTensor))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsTensor(ITypeSymbol type) =>
        type is INamedTypeSymbol { Name: "Tensor", ContainingType: { Name: "torch", ContainingNamespace.Name: "TorchSharp" } };

    private static bool Fits(IMethodSymbol constructor, EquatableArray<ArgumentInfo> arguments)
    {
        foreach (var argument in arguments)
        {
            var parameter = constructor.Parameters.FirstOrDefault(p => p.Name == argument.Name);
            if (parameter is null || !Accepts(parameter.Type, argument.Kind)) return false;
        }

        return constructor.Parameters.All(p => p.HasExplicitDefaultValue || p.IsParams || arguments.Any(a => a.Name == p.Name));
    }

    /// <summary>True where a value of <paramref name="kind"/>, as generated code passes it, converts implicitly.</summary>
    private static bool Accepts(ITypeSymbol type, string kind)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            type = nullable.TypeArguments[0];
        }

        return kind switch
        {
            ArgumentKinds.Integer => type.SpecialType is SpecialType.System_Int32 or SpecialType.System_Int64 or SpecialType.System_Single or SpecialType.System_Double or SpecialType.System_Object,
            ArgumentKinds.Number => type.SpecialType is SpecialType.System_Double or SpecialType.System_Object,
            ArgumentKinds.Boolean => type.SpecialType is SpecialType.System_Boolean or SpecialType.System_Object,
            ArgumentKinds.IntegerList => IsReadOnlyListTarget(type, SpecialType.System_Int32),
            ArgumentKinds.NumberList => IsReadOnlyListTarget(type, SpecialType.System_Double),
            _ => false,
        };
    }

    /// <summary>True for <c>IReadOnlyList&lt;T&gt;</c> and the interfaces it implements (and <c>object</c>).</summary>
    private static bool IsReadOnlyListTarget(ITypeSymbol type, SpecialType element)
    {
        if (type.SpecialType == SpecialType.System_Object) return true;
        return type is INamedTypeSymbol { IsGenericType: true } named &&
               named.TypeArguments[0].SpecialType == element &&
               named.OriginalDefinition.SpecialType is SpecialType.System_Collections_Generic_IReadOnlyList_T
                   or SpecialType.System_Collections_Generic_IReadOnlyCollection_T or SpecialType.System_Collections_Generic_IEnumerable_T;
    }

    private static DiagnosticInfo Create(DiagnosticDescriptor descriptor, CustomTypeInfo type, params object[] args) => new(
        descriptor.Id, descriptor.Title, descriptor.FormatMessage(args), DiagnosticSeverity.Error, descriptor.Category, type.Span);
}
