using System.Collections.Generic;

namespace Jepa.Dsl.Binding;

/// <summary>
/// What C# does not accept as the name of a generated class or namespace: its keywords, and (for an experiment, whose
/// class declares these members) the names of the generated members, which a class cannot share with its own name.
/// </summary>
internal static class CSharpNames
{
    private static readonly HashSet<string> Keywords = new(System.StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override", "params",
        "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof",
        "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong",
        "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    };

    /// <summary>Members every generated experiment class declares (docs/internals/generated-code-contract.md).</summary>
    private static readonly HashSet<string> GeneratedMembers = new(System.StringComparer.Ordinal)
    {
        "Options", "Settings", "Definition", "InputShape", "EmbeddingWidth", "ParameterCount", "FlopsPerStep",
        "ContextEncoder", "TargetEncoder", "Predictor", "Corrupt", "Encode", "TrainingStep", "MonitorEmbeddings",
    };

    public static bool IsKeyword(string name) => Keywords.Contains(name);

    /// <summary>Why <paramref name="name"/> cannot be an experiment's class name, or null when it can.</summary>
    public static string? ExperimentProblem(string name) =>
        Keywords.Contains(name) ? "it is a C# keyword"
        : GeneratedMembers.Contains(name) ? $"the generated class has a member named {name}"
        : null;
}
