using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Syntax;

namespace Jepa.Dsl.Binding;

internal sealed partial class ExperimentBinder
{
    private BoundTrain? BindTrain()
    {
        if (_trainSyntax is not { } block)
        {
            return null;
        }

        var broken = block.Statements.OfType<ErrorStatementSyntax>().Any();
        var settings = new Dictionary<string, SettingStatementSyntax>();
        foreach (var setting in block.Statements.OfType<SettingStatementSyntax>())
        {
            if (settings.ContainsKey(setting.Keyword.Text))
            {
                _diagnostics.Report(DiagnosticDescriptors.DuplicateStatement, setting.Keyword.Span, $"'{setting.Keyword.Text}'", "in train");
                continue;
            }

            settings.Add(setting.Keyword.Text, setting);
        }

        BoundCall? optimizerCall = null;
        if (settings.TryGetValue("optimizer", out var optimizerSetting))
        {
            (_, optimizerCall) = BindFunction(optimizerSetting.Value, BuiltinKind.Optimizer);
        }
        else if (!broken)
        {
            _diagnostics.Report(DiagnosticDescriptors.MissingStatement, block.Keyword.Span, "train", "optimizer", "optimizer adamw(lr: 1e-3);");
        }

        Builtin? schedule = Builtins.Constant;
        BoundCall? scheduleCall = null;
        if (settings.TryGetValue("schedule", out var scheduleSetting))
        {
            (schedule, var call) = BindFunction(scheduleSetting.Value, BuiltinKind.Schedule);
            if (schedule == Builtins.WarmupCosine)
            {
                call = CompleteWarmup(call);
                if (optimizerCall?.Find("lr") is { Value: ScheduleValue lr } lrArgument)
                {
                    _diagnostics.Report(DiagnosticDescriptors.LrScheduleWithWarmupCosine, lrArgument.Span, lr.Display);
                }
            }

            scheduleCall = call;
        }

        int? Setting(string name)
        {
            if (!settings.TryGetValue(name, out var setting))
            {
                return null;
            }

            var value = _arguments.BindValue(setting.Value, Builtins.TrainSettings[name], name);
            return value is NumberValue number ? (int)number.Value : null;
        }

        var batch = Setting("batch") ?? 256;
        var epochs = Setting("epochs");
        var steps = Setting("steps");
        var seed = Setting("seed") ?? 0;
        double? clip = null;
        if (settings.TryGetValue("clip", out var clipSetting) && _arguments.BindValue(clipSetting.Value, Builtins.TrainSettings["clip"], "clip") is NumberValue clipValue)
        {
            clip = clipValue.Value;
        }

        var device = Builtins.Cpu;
        if (settings.TryGetValue("device", out var deviceSetting) && _arguments.BindValue(deviceSetting.Value, Builtins.TrainSettings["device"], "device") is OptionValue deviceValue)
        {
            device = Builtins.Find(BuiltinKind.Device, deviceValue.Name)!; // the option's names are the devices'
        }

        var hasEpochs = settings.TryGetValue("epochs", out var epochsSetting);
        var hasSteps = settings.TryGetValue("steps", out var stepsSetting);
        if (!hasEpochs && !hasSteps && !broken)
        {
            _diagnostics.Report(DiagnosticDescriptors.TrainingLength, block.Keyword.Span, "train gives neither epochs nor steps");
        }
        else if (hasEpochs && hasSteps)
        {
            var second = epochsSetting!.Span.Start > stepsSetting!.Span.Start ? epochsSetting : stepsSetting;
            _diagnostics.Report(DiagnosticDescriptors.TrainingLength, second.Keyword.Span, "train gives both epochs and steps");
        }

        CheckWarmupLength(scheduleCall, epochs, steps);
        return new BoundTrain(block.Span, Source(block.Span), optimizerCall, schedule, scheduleCall, batch, epochs, steps, seed, device, clip)
        {
            BatchSpan = settings.TryGetValue("batch", out var batchSetting) ? batchSetting.Value.Span : null,
        };
    }

    /// <summary>warmup_cosine takes warmup_epochs or warmup_steps, not both; without either, warmup_steps is 0.</summary>
    private BoundCall CompleteWarmup(BoundCall call)
    {
        var epochs = call.Find("warmup_epochs");
        var steps = call.Find("warmup_steps");
        if (epochs is not null && steps is not null)
        {
            var second = epochs.Span.Start > steps.Span.Start ? epochs : steps;
            _diagnostics.Report(DiagnosticDescriptors.ConflictingArguments, second.Span, "warmup_epochs", "warmup_steps");
            return call with { HasErrors = true };
        }

        if (epochs is null && steps is null)
        {
            var arguments = call.Arguments.ToList();
            arguments.Insert(0, new BoundArgument("warmup_steps", ParameterType.Integer, new NumberValue(0), true, call.Span));
            return call with { Arguments = arguments.ToEquatableArray() };
        }

        return call;
    }

    private void CheckWarmupLength(BoundCall? schedule, int? epochs, int? steps)
    {
        if (schedule is null)
        {
            return;
        }

        if (schedule.Find("warmup_steps") is { IsDefault: false } warmupSteps && warmupSteps.Value is NumberValue ws && steps is { } s && ws.Value > s)
        {
            _diagnostics.Report(DiagnosticDescriptors.WarmupLongerThanTraining, warmupSteps.Span, $"{ws.Display} steps", $"{s} steps");
        }

        if (schedule.Find("warmup_epochs") is { } warmupEpochs && warmupEpochs.Value is NumberValue we && epochs is { } e && we.Value > e)
        {
            _diagnostics.Report(DiagnosticDescriptors.WarmupLongerThanTraining, warmupEpochs.Span, $"{we.Display} epochs", $"{e} epochs");
        }
    }

    private BoundEvaluate BindEvaluate()
    {
        if (_evaluateSyntax is not { } block)
        {
            return new BoundEvaluate(null, null, EquatableArray<BoundCall>.Empty);
        }

        var calls = BindItems(block, BuiltinKind.Evaluation);
        if (!calls.Any(c => c.Builtin == Builtins.Split))
        {
            // The held-out fraction applies to every evaluation: its default when not listed.
            calls.Add(new BoundCall(Builtins.Split.Name, block.Keyword.Span, Builtins.Split.Parameters
                .Select(p => new BoundArgument(p.Name, p.Type, p.Default!, true, block.Keyword.Span)).ToEquatableArray(), false, Builtins.Split));
        }

        return new BoundEvaluate(block.Span, Source(block.Span), calls.ToEquatableArray());
    }

    private BoundMonitor BindMonitor() =>
        _monitorSyntax is { } block
            ? new BoundMonitor(block.Span, Source(block.Span), BindItems(block, BuiltinKind.Monitor).ToEquatableArray())
            : new BoundMonitor(null, null, EquatableArray<BoundCall>.Empty);

    /// <summary>The items of <c>evaluate</c> or <c>monitor</c> that bound, each built-in once, in the file's order.</summary>
    private List<BoundCall> BindItems(BlockSyntax block, BuiltinKind category)
    {
        var calls = new List<BoundCall>();
        foreach (var item in block.Statements.OfType<CallStatementSyntax>())
        {
            var (spec, call) = BindFunction(item.Call, category);
            if (spec is null)
            {
                continue;
            }

            if (calls.Any(c => c.Builtin == spec))
            {
                _diagnostics.Report(DiagnosticDescriptors.DuplicateStatement, ArgumentBinder.NameSpan(item.Call), $"'{spec.Name}'",
                    "in " + block.Keyword.Text);
                continue;
            }

            calls.Add(call);
        }

        return calls;
    }

    /// <summary>Binds <c>name(args)</c> or <c>name</c> against the built-ins of a category; <paramref name="article"/>
    /// starts the expected-value text of JEPA104 ("the optimizer", "a loss").</summary>
    private (Builtin? Spec, BoundCall Call) BindFunction(ExpressionSyntax value, BuiltinKind category, string article = "the")
    {
        var name = value switch
        {
            CallSyntax call => call.Name,
            NameSyntax n => n.Name,
            _ => null,
        };
        var names = Builtins.Names(category).ToList();
        var what = Builtins.Describe(category);
        if (name is null)
        {
            _diagnostics.Report(DiagnosticDescriptors.WrongValueType, value.Span, $"{article} {what}", "one of " + Suggestions.OrList(names),
                ArgumentBinder.Describe(value));
            return (null, ErrorCall("?", value));
        }

        var spec = name.IsQualified ? null : Builtins.Find(category, name.Text);
        if (spec is null)
        {
            _diagnostics.Report(DiagnosticDescriptors.UnknownFunction, name.Span, what, name.Text,
                Suggestions.DidYouMean(name.Text, names) + "expected " + Suggestions.OrList(names));
            return (null, ErrorCall(name.Text, value));
        }

        return (spec, _arguments.Bind(value, spec, out _));
    }

    // ---- warnings --------------------------------------------------------------------------------------------------

    private void ReportWarnings(ObjectiveState? objective, BoundTrain? train, Usage usage)
    {
        foreach (var encoder in _encoders.Where(e => e.Kind == EncoderKind.Ema && e.Call is not null))
        {
            if (encoder.Call!.Find("momentum") is { Value: ScheduleValue momentum } argument && momentum.End < momentum.Start)
            {
                _diagnostics.Report(DiagnosticDescriptors.EmaMomentumDecreases, argument.Span, BoundValue.Format(momentum.Start), BoundValue.Format(momentum.End));
            }
        }

        if (objective is not null && train is { BatchSpan: { } batchSpan } && train.Batch < 64)
        {
            var regularizer = objective.Regularizers.FirstOrDefault(r => r.Builtin?.Has(BuiltinFlags.BatchStatistics) == true);
            if (regularizer is not null)
            {
                _diagnostics.Report(DiagnosticDescriptors.SmallBatchStatistics, batchSpan, regularizer.Call.Function, train.Batch);
            }
        }

        // Unused names: only when both sides of the objective bound, so an error there does not make everything unused.
        if (objective is not { IsComplete: true })
        {
            return;
        }

        // Error nodes were reported already; an unused warning on top would be a cascade.
        foreach (var corruption in _corruptions.Where(c => !usage.Corruptions.Contains(c.Name) && !c.HasErrors))
        {
            _diagnostics.Report(DiagnosticDescriptors.UnusedCorruption, corruption.Syntax.Name.Span, corruption.Name);
        }

        foreach (var encoder in _encoders.Where(e => !usage.Encoders.Contains(e.Name) && e.Kind != EncoderKind.Error && e.Call?.HasErrors != true))
        {
            _diagnostics.Report(DiagnosticDescriptors.UnusedEncoder, encoder.Syntax.Name.Span, encoder.Name);
        }
    }

    /// <summary>What the objective uses: the corruptions its sides name, and, once both sides bound, the encoders they
    /// name with every encoder those copy or alias.</summary>
    private sealed record Usage(HashSet<string> Corruptions, HashSet<string> Encoders);

    private static Usage UsageOf(ObjectiveState? objective)
    {
        var corruptions = new HashSet<string>(new[] { objective?.Context?.Corruption, objective?.Target?.Corruption }
            .Where(c => c is not null).Select(c => c!.Name));
        var encoders = new HashSet<string>();
        if (objective is { IsComplete: true })
        {
            foreach (var side in new[] { objective.Context!.Encoder, objective.Target!.Encoder })
            {
                var steps = 0;
                for (var encoder = side; encoder is not null && encoders.Add(encoder.Name) && steps++ < 1000; encoder = encoder.Referent)
                {
                }
            }
        }

        return new Usage(corruptions, encoders);
    }
}
