using System.Collections.Generic;
using System.Linq;

namespace Jepa.Dsl.Catalog;

/// <summary>
/// The catalog: every built-in of the language, each described once (docs/internals/architecture.md). The entries of
/// each kind live in their own file (<c>Builtins.Corruptions.cs</c>, ...) with a list of that kind in the order the
/// language reference and the "expected ..." messages give them; this file holds the look-ups. Parameters are built
/// with <see cref="Parts"/>, a class of its own so that its fields exist before any entry's initialiser runs.
/// </summary>
public static partial class Builtins
{
    /// <summary>Every built-in: corruptions, encoders, predictors, losses, regularizers, optimizers, schedules,
    /// evaluations, monitors and devices.</summary>
    /// <remarks>Computed on first use: the lists are initialised in their own files, in an order C# leaves open.</remarks>
    public static IReadOnlyList<Builtin> All => _all ??=
        Corruptions.Concat(Encoders).Concat(Predictors).Concat(Losses).Concat(Regularizers).Concat(Optimizers).Concat(Schedules)
            .Concat(Evaluations).Concat(Monitors).Concat(Devices).ToList();

    private static IReadOnlyList<Builtin>? _all;

    public static Builtin? Find(BuiltinKind kind, string name) => All.FirstOrDefault(f => f.Kind == kind && f.Name == name);

    public static IEnumerable<Builtin> OfKind(BuiltinKind kind) => All.Where(f => f.Kind == kind);

    public static IEnumerable<string> Names(BuiltinKind kind) => OfKind(kind).Select(f => f.Name);

    /// <summary>How messages name a kind: "corruption", "loss", ...</summary>
    public static string Describe(BuiltinKind kind) => kind switch
    {
        BuiltinKind.Corruption => "corruption",
        BuiltinKind.Encoder => "encoder",
        BuiltinKind.Predictor => "predictor",
        BuiltinKind.Loss => "loss",
        BuiltinKind.Regularizer => "regularizer",
        BuiltinKind.Optimizer => "optimizer",
        BuiltinKind.Schedule => "schedule",
        BuiltinKind.Evaluation => "evaluation",
        BuiltinKind.Monitor => "monitor",
        BuiltinKind.Device => "device",
        _ => throw new System.ArgumentOutOfRangeException(nameof(kind), kind, "a kind of built-in without a name"),
    };
}
