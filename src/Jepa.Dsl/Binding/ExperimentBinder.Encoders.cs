using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Syntax;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Binding;

internal sealed partial class ExperimentBinder
{
    private static IEnumerable<string> EncoderBuiltins => Builtins.Names(BuiltinKind.Encoder);

    private readonly List<EncoderState> _encoders = new();
    private readonly Dictionary<string, EncoderState> _encoderByName = new();

    private sealed class EncoderState
    {
        public EncoderState(EncoderStatementSyntax syntax, string source)
        {
            Syntax = syntax;
            Source = source;
        }

        public EncoderStatementSyntax Syntax { get; }

        public string Source { get; }

        public string Name => Syntax.Name.Text;

        public EncoderKind Kind { get; set; }

        public BoundCall? Call { get; set; }

        public BoundCustomEncoder? Custom { get; set; }

        public string? Reference { get; set; }

        public SourceSpan? ReferenceSpan { get; set; }

        /// <summary>The encoder that <see cref="Reference"/> names, once resolved.</summary>
        public EncoderState? Referent { get; set; }

        public string? Module { get; set; }

        public int Visit { get; set; }

        public bool IsTrainableModule => Kind is EncoderKind.Module or EncoderKind.Custom;

        /// <summary>The bound encoder; its output, token mode and parameter count come from the passes.</summary>
        public BoundEncoder ToBound(bool isUsed) => new(
            Name, Syntax.Span, Syntax.Name.Span, Source, Kind, Call, Custom, Reference, ReferenceSpan, Module, Shape.Unknown, false, null, isUsed);
    }

    /// <summary>Follows aliases to the encoder that defines the module (an error node for a broken chain).</summary>
    private static EncoderState Resolve(EncoderState encoder)
    {
        var current = encoder;
        var steps = 0;
        while (current.Kind == EncoderKind.Alias && current.Referent is not null && steps++ < 1000)
        {
            current = current.Referent;
        }

        return current;
    }

    private void BindEncoders()
    {
        foreach (var syntax in _encoderSyntax)
        {
            var state = new EncoderState(syntax, Source(syntax.Span));
            _encoders.Add(state);
            _encoderByName[state.Name] = state;
        }

        foreach (var state in _encoders)
        {
            Classify(state);
        }

        foreach (var state in _encoders.Where(s => s.Reference is not null && s.Kind != EncoderKind.Error))
        {
            if (_encoderByName.TryGetValue(state.Reference!, out var referent))
            {
                state.Referent = referent;
            }
            else
            {
                ReportUnknownReference("encoder", state.Reference!, state.ReferenceSpan!.Value, _encoderByName.Keys);
                state.Kind = EncoderKind.Error;
            }
        }

        DetectCycles();

        foreach (var state in _encoders.Where(s => s.Kind is EncoderKind.Ema or EncoderKind.StopGradient && s.Referent is not null))
        {
            var target = Resolve(state.Referent!);
            if (target.Kind is EncoderKind.Ema or EncoderKind.StopGradient)
            {
                var what = target.Kind == EncoderKind.Ema ? "an EMA copy" : "a stop-gradient view";
                var trainable = Builtins.OfKind(BuiltinKind.Encoder).Where(b => b.Has(BuiltinFlags.Trainable)).Select(b => b.Name);
                var wrap = target.Referent is { } root && Resolve(root).IsTrainableModule
                    ? $"wrap the trainable encoder '{Resolve(root).Name}' instead"
                    : $"wrap a trainable encoder ({string.Join(", ", trainable)} or a C# type) instead";
                _diagnostics.Report(DiagnosticDescriptors.InvalidWrappedEncoder, state.ReferenceSpan!.Value,
                    state.Kind == EncoderKind.Ema ? "ema(...)" : "stopgrad(...)", state.Reference!, what, wrap);
                state.Kind = EncoderKind.Error;
                state.Referent = null;
            }
        }

        foreach (var state in _encoders.Where(s => s.IsTrainableModule))
        {
            state.Module = state.Name;
        }

        foreach (var state in _encoders.Where(s => s.Kind is EncoderKind.Ema or EncoderKind.StopGradient or EncoderKind.Alias))
        {
            var resolved = Resolve(state);
            var module = resolved.Kind is EncoderKind.Ema or EncoderKind.StopGradient ? resolved.Referent is { } r ? Resolve(r) : null : resolved;
            if (module is { IsTrainableModule: true })
            {
                state.Module = module.Name;
            }
        }
    }

    /// <summary>Decides what an encoder statement defines and binds its arguments.</summary>
    private void Classify(EncoderState state)
    {
        var value = state.Syntax.Value;
        switch (value)
        {
            case CallSyntax { Name.IsQualified: true } call:
                state.Kind = EncoderKind.Custom;
                state.Custom = BindCustom(call.Name, call.Arguments);
                return;
            case NameSyntax { Name.IsQualified: true } name:
                state.Kind = EncoderKind.Custom;
                state.Custom = BindCustom(name.Name, EquatableArray<ArgumentSyntax>.Empty);
                return;
            case NameSyntax name when _encoderByName.ContainsKey(name.Text):
                state.Kind = EncoderKind.Alias;
                state.Reference = name.Text;
                state.ReferenceSpan = name.Span;
                return;
            case CallSyntax or NameSyntax:
                var functionName = value is CallSyntax c ? c.Name.Text : ((NameSyntax)value).Text;
                var spec = Builtins.Find(BuiltinKind.Encoder, functionName);
                if (spec is null)
                {
                    if (value is NameSyntax bare)
                    {
                        ReportUnknownReference("encoder", bare.Text, bare.Span, _encoderByName.Keys.Where(k => k != state.Name).Concat(EncoderBuiltins),
                            " (a C# encoder type must be namespace-qualified, as in My.Encoders.Tiny(out: 32))");
                    }
                    else
                    {
                        _diagnostics.Report(DiagnosticDescriptors.UnknownFunction, ArgumentBinder.NameSpan(value), "encoder", functionName,
                            Suggestions.DidYouMean(functionName, EncoderBuiltins)
                            + $"expected {string.Join(", ", EncoderBuiltins)}, another encoder's name, or a namespace-qualified C# type such as My.Encoders.Tiny(out: 32)");
                    }

                    state.Kind = EncoderKind.Error;
                    return;
                }

                state.Call = _arguments.Bind(value, spec, out var encoderArgument);
                state.Kind = spec.EncoderKind;
                if (spec.Has(BuiltinFlags.NeedsImage) && _input is { Shape.IsKnown: true } input && input.Shape.Rank != 3)
                {
                    _diagnostics.Report(DiagnosticDescriptors.NeedsImageInput, ArgumentBinder.NameSpan(value), spec.Name, input.Name, input.Shape.ToString());
                }

                if (spec.Has(BuiltinFlags.TakesEncoder))
                {
                    if (encoderArgument is NameSyntax { Name.IsQualified: false } reference)
                    {
                        state.Reference = reference.Text;
                        state.ReferenceSpan = reference.Span;
                    }
                    else
                    {
                        if (encoderArgument is not null)
                        {
                            _diagnostics.Report(DiagnosticDescriptors.WrongValueType, encoderArgument.Span, $"the first argument of {spec.Name}",
                                "the name of an encoder", ArgumentBinder.Describe(encoderArgument));
                        }

                        state.Kind = EncoderKind.Error;
                    }
                }

                return;
            default:
                _diagnostics.Report(DiagnosticDescriptors.WrongValueType, value.Span, $"encoder '{state.Name}'",
                    $"an encoder ({string.Join(", ", EncoderBuiltins.Select(n => n + "(...)"))}, another encoder's name or a C# type)", ArgumentBinder.Describe(value));
                state.Kind = EncoderKind.Error;
                return;
        }
    }

    private BoundCustomEncoder BindCustom(QualifiedNameSyntax typeName, EquatableArray<ArgumentSyntax> arguments)
    {
        var bound = new List<BoundCustomArgument>();
        var anyValue = new Parameter("argument", ParameterType.Any);
        var outSpec = new Parameter("out", ParameterType.Integer, Bounds.AtLeast(1));
        int? output = null;
        foreach (var argument in arguments)
        {
            if (argument.Name is null)
            {
                _diagnostics.Report(DiagnosticDescriptors.PositionalArgument, argument.Span, typeName.Text,
                    "name each argument after a constructor parameter, as in out: 32");
                continue;
            }

            if (bound.Any(b => b.Name == argument.Name.Text))
            {
                _diagnostics.Report(DiagnosticDescriptors.DuplicateArgument, argument.Name.Span, argument.Name.Text, typeName.Text);
                continue;
            }

            var subject = $"'{argument.Name.Text}' of {typeName.Text}";
            var value = argument.Name.Text == "out"
                ? _arguments.BindValue(argument.Value, outSpec, subject)
                : _arguments.BindValue(argument.Value, anyValue, subject);
            if (argument.Name.Text == "out" && value is NumberValue width)
            {
                output = (int)width.Value;
            }

            bound.Add(new BoundCustomArgument(argument.Name.Text, argument.Name.Span, value, argument.Value.Span));
        }

        return new BoundCustomEncoder(typeName.Text, typeName.Span, bound.ToEquatableArray(), output);
    }

    private void DetectCycles()
    {
        foreach (var start in _encoders)
        {
            if (start.Visit == 2)
            {
                continue;
            }

            var path = new List<EncoderState>();
            var current = start;
            while (current is not null && current.Visit == 0)
            {
                current.Visit = 1;
                path.Add(current);
                current = current.Referent;
            }

            if (current is not null && current.Visit == 1)
            {
                var cycle = path.Skip(path.IndexOf(current)).ToList();
                var first = cycle.OrderBy(e => e.Syntax.Span.Start).First();
                var ordered = cycle.Skip(cycle.IndexOf(first)).Concat(cycle.Take(cycle.IndexOf(first))).Select(e => e.Name).ToList();
                ordered.Add(first.Name);
                _diagnostics.Report(DiagnosticDescriptors.EncoderCycle, first.ReferenceSpan!.Value, first.Name, SourceText.Path(ordered));
                foreach (var member in cycle)
                {
                    member.Kind = EncoderKind.Error;
                    member.Referent = null;
                }
            }

            foreach (var visited in path)
            {
                visited.Visit = 2;
            }
        }
    }

    private void ReportUnknownReference(string kind, string name, SourceSpan span, IEnumerable<string> candidates, string hint = "")
    {
        if (_brokenNames.Contains(name) || _sawUnknownStatement)
        {
            return; // declared by a statement with a syntax error, or possibly by an unknown statement
        }

        var list = candidates.Distinct().ToList();
        var suggestion = Suggestions.Closest(name, list);
        string detail;
        if (suggestion is not null)
        {
            detail = $"did you mean '{suggestion}'?";
        }
        else if (kind != "corruption" && _corruptionSyntax.Any(c => c.Name.Text == name))
        {
            detail = $"'{name}' is a corruption";
        }
        else if (kind != "encoder" && _encoderByName.ContainsKey(name))
        {
            detail = $"'{name}' is an encoder";
        }
        else if (_input?.Name == name)
        {
            detail = $"'{name}' is the input";
        }
        else
        {
            var declared = kind == "encoder" ? _encoderByName.Keys.ToList() : _corruptionSyntax.Select(c => c.Name.Text).ToList();
            detail = declared.Count == 0 ? $"it declares no {kind}" : $"its {kind}s are " + Suggestions.OrList(declared.Select(d => $"'{d}'"));
        }

        _diagnostics.Report(DiagnosticDescriptors.UnknownReference, span, Name, kind, name, detail + hint);
    }
}
