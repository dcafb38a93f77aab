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
    private sealed class ApplicationState
    {
        public ApplicationState(ExpressionSyntax syntax, string source)
        {
            Syntax = syntax;
            Source = source;
        }

        public ExpressionSyntax Syntax { get; }

        public string Source { get; }

        public IdentifierSyntax? EncoderName { get; set; }

        public IdentifierSyntax? CorruptionName { get; set; }

        public IdentifierSyntax? InputName { get; set; }

        public EncoderState? Encoder { get; set; }

        public CorruptionState? Corruption { get; set; }

        public bool IsError { get; set; }

        /// <summary>The encoder that defines what runs (aliases followed), when it bound.</summary>
        public EncoderState? Resolved => Encoder is null ? null : Resolve(Encoder);

        public BoundApplication ToBound() => new(
            Syntax.Span,
            Source,
            EncoderName?.Text ?? string.Empty,
            EncoderName?.Span ?? Syntax.Span,
            Resolved is { Kind: not EncoderKind.Error } resolved ? resolved.Name : null,
            CorruptionName?.Text,
            CorruptionName?.Span,
            InputName?.Text ?? string.Empty,
            InputName?.Span ?? Syntax.Span,
            IsError);
    }

    private sealed class ObjectiveState
    {
        public ObjectiveState(BlockSyntax syntax, string source)
        {
            Syntax = syntax;
            Source = source;
        }

        public BlockSyntax Syntax { get; }

        public string Source { get; }

        public PredictStatementSyntax? Predict { get; set; }

        public ApplicationState? Target { get; set; }

        public ApplicationState? Context { get; set; }

        public TargetKind TargetKind { get; set; }

        public BoundLoss? Loss { get; set; }

        public List<BoundRegularizer> Regularizers { get; } = new();

        /// <summary>Keywords of objective statements that failed to parse.</summary>
        public HashSet<string> Broken { get; } = new();

        /// <summary>True when both applications bound to encoders without error.</summary>
        public bool IsComplete => Target is { IsError: false, Resolved: not null } && Context is { IsError: false, Resolved: not null } && Broken.Count == 0;

        /// <summary>False when the context side names an EMA copy or a stop-gradient view (JEPA310).</summary>
        public bool ContextTrains { get; set; }

        public string PredictSource { get; set; } = string.Empty;

        public BoundObjective? ToBound() =>
            Target is null || Context is null || Predict is null
                ? null
                : new BoundObjective(Syntax.Span, Source, Predict.Span, PredictSource, Target.ToBound(), Context.ToBound(), TargetKind, Loss,
                    Regularizers.ToEquatableArray());
    }

    private ObjectiveState? BindObjective()
    {
        if (_objectiveSyntax is not { } block)
        {
            return null;
        }

        var state = new ObjectiveState(block, Source(block.Span));
        LossStatementSyntax? loss = null;
        RegularizeStatementSyntax? regularize = null;
        foreach (var statement in block.Statements)
        {
            switch (statement)
            {
                case PredictStatementSyntax predict:
                    if (Single(predict, state.Predict))
                    {
                        state.Predict = predict;
                    }

                    break;
                case LossStatementSyntax l:
                    if (Single(l, loss))
                    {
                        loss = l;
                    }

                    break;
                case RegularizeStatementSyntax r:
                    if (Single(r, regularize))
                    {
                        regularize = r;
                    }

                    break;
                case ErrorStatementSyntax broken:
                    state.Broken.Add(broken.Keyword.Text);
                    break;
            }
        }

        var unknownStatement = state.Broken.Any(k => k is not ("predict" or "loss" or "regularize"));
        if (state.Predict is not null)
        {
            state.PredictSource = Source(state.Predict.Span);
            state.Target = BindApplication(state.Predict.Target);
            state.Context = BindApplication(state.Predict.Context);
        }
        else if (!state.Broken.Contains("predict") && !unknownStatement)
        {
            _diagnostics.Report(DiagnosticDescriptors.MissingStatement, block.Keyword.Span, "the objective", "predict statement",
                "predict target(image) from context(masked(image));");
        }

        if (loss is not null)
        {
            state.Loss = BindLoss(loss.Term);
        }
        else if (!state.Broken.Contains("loss") && !unknownStatement)
        {
            _diagnostics.Report(DiagnosticDescriptors.MissingStatement, block.Keyword.Span, "the objective", "loss", "loss smooth_l1;");
        }

        if (regularize is not null)
        {
            foreach (var term in regularize.Terms)
            {
                var bound = BindRegularizer(term);
                if (bound.Builtin is { } builtin && state.Regularizers.Any(r => r.Builtin == builtin))
                {
                    _diagnostics.Report(DiagnosticDescriptors.DuplicateStatement, ArgumentBinder.NameSpan(term.Function), $"'{bound.Call.Function}'", "in regularize");
                    continue;
                }

                state.Regularizers.Add(bound);
            }
        }

        DecideTargetKind(state);
        return state;

        bool Single(StatementSyntax statement, StatementSyntax? first)
        {
            if (first is null)
            {
                return true;
            }

            _diagnostics.Report(DiagnosticDescriptors.DuplicateStatement, statement.Keyword.Span, $"'{statement.Keyword.Text}'", "in the objective");
            return false;
        }
    }

    /// <summary><c>ENCODER(INPUT)</c> or <c>ENCODER(CORRUPTION(INPUT))</c>.</summary>
    private ApplicationState BindApplication(ExpressionSyntax syntax)
    {
        var state = new ApplicationState(syntax, Source(syntax.Span));
        if (!TrySplit(syntax, out var encoderName, out var corruptionName, out var inputName))
        {
            _diagnostics.Report(DiagnosticDescriptors.MalformedApplication, syntax.Span, $"'{state.Source}'");
            state.IsError = true;
            return state;
        }

        state.EncoderName = encoderName;
        state.CorruptionName = corruptionName;
        state.InputName = inputName;

        if (_encoderByName.TryGetValue(encoderName.Text, out var encoder))
        {
            state.Encoder = encoder;
            if (Resolve(encoder).Kind == EncoderKind.Error)
            {
                state.IsError = true;
            }
        }
        else
        {
            if (_sawEncoderStatement)
            {
                ReportUnknownReference("encoder", encoderName.Text, encoderName.Span, _encoderByName.Keys);
            }

            state.IsError = true;
        }

        if (corruptionName is not null)
        {
            if (_corruptionByName.TryGetValue(corruptionName.Text, out var corruption))
            {
                state.Corruption = corruption;
            }
            else
            {
                ReportUnknownReference("corruption", corruptionName.Text, corruptionName.Span, _corruptionByName.Keys);
                state.IsError = true;
            }
        }

        if (_input is not null && inputName.Text != _input.Name)
        {
            _diagnostics.Report(DiagnosticDescriptors.NotTheInput, inputName.Span, inputName.Text, Name, _input.Name);
            state.IsError = true;
        }

        return state;
    }

    private static bool TrySplit(ExpressionSyntax syntax, out IdentifierSyntax encoder, out IdentifierSyntax? corruption, out IdentifierSyntax input)
    {
        encoder = input = null!;
        corruption = null;
        if (!IsSingleApplication(syntax, out var outer, out var argument))
        {
            return false;
        }

        encoder = outer;
        if (argument is NameSyntax { Name.IsQualified: false } name)
        {
            input = name.Name.Parts[0];
            return true;
        }

        if (IsSingleApplication(argument, out var inner, out var innerArgument) && innerArgument is NameSyntax { Name.IsQualified: false } innerName)
        {
            corruption = inner;
            input = innerName.Name.Parts[0];
            return true;
        }

        return false;
    }

    private static bool IsSingleApplication(ExpressionSyntax syntax, out IdentifierSyntax name, out ExpressionSyntax argument)
    {
        if (syntax is CallSyntax { Name.IsQualified: false, Arguments.Count: 1 } call && call.Arguments[0].Name is null)
        {
            name = call.Name.Parts[0];
            argument = call.Arguments[0].Value;
            return true;
        }

        name = null!;
        argument = null!;
        return false;
    }

    private BoundLoss BindLoss(TermSyntax term)
    {
        var (_, call) = BindFunction(term.Function, BuiltinKind.Loss, article: "a");
        return new BoundLoss(call, BindWeight(term, "loss"), term.Span, Source(term.Span));
    }

    private BoundRegularizer BindRegularizer(TermSyntax term)
    {
        var (_, call) = BindFunction(term.Function, BuiltinKind.Regularizer, article: "a");
        return new BoundRegularizer(call, BindWeight(term, "regularizer"), term.Span, Source(term.Span));
    }

    /// <summary>
    /// How the target side gets its representation, once both sides bound: the context side must train (JEPA310), an
    /// EMA or stop-gradient target must copy the context encoder (JEPA302), the same encoder is shared, another
    /// trainable one independent.
    /// </summary>
    private void DecideTargetKind(ObjectiveState objective)
    {
        objective.TargetKind = TargetKind.Error;
        if (!objective.IsComplete)
        {
            return;
        }

        var contextApplication = objective.Context!;
        var context = contextApplication.Resolved!;
        var target = objective.Target!.Resolved!;
        if (context.Kind is EncoderKind.Ema or EncoderKind.StopGradient)
        {
            _diagnostics.Report(DiagnosticDescriptors.ContextNotTrainable, contextApplication.EncoderName!.Span, contextApplication.EncoderName.Text,
                (context.Kind == EncoderKind.Ema ? "an EMA copy" : "a stop-gradient view") + (context.Reference is { } r ? $" of '{r}'" : string.Empty));
            return;
        }

        objective.ContextTrains = true;
        if (target.Kind is EncoderKind.Ema or EncoderKind.StopGradient)
        {
            if (target.Module is null)
            {
                return;
            }

            if (target.Module != context.Name)
            {
                _diagnostics.Report(DiagnosticDescriptors.TargetWrapsOtherEncoder, objective.Target.EncoderName!.Span, objective.Target.EncoderName.Text,
                    target.Kind == EncoderKind.Ema ? "an EMA copy" : "a stop-gradient view", target.Module, context.Name);
                return;
            }

            objective.TargetKind = target.Kind == EncoderKind.Ema ? TargetKind.Ema : TargetKind.StopGradient;
            return;
        }

        objective.TargetKind = target == context ? TargetKind.Shared : TargetKind.Independent;
    }

    private double BindWeight(TermSyntax term, string what)
    {
        if (term.Weight is not { } weight)
        {
            return 1.0;
        }

        var bound = _arguments.BindValue(weight, new Parameter("weight", ParameterType.Number, Bounds.Above(0)), $"the weight of a {what}");
        return bound is NumberValue number ? number.Value : 1.0;
    }
}
