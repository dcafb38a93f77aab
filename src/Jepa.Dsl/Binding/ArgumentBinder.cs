using System;
using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Syntax;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Binding;

/// <summary>
/// Binds the arguments of a call against a built-in's parameters: unknown names (with "did you mean"), duplicates,
/// types, ranges and missing required parameters are reported at the offending token, and defaults are filled in. A
/// value that fails binds to <see cref="ErrorValue"/>, so nothing downstream reports it again.
/// </summary>
internal sealed class ArgumentBinder
{
    private readonly DiagnosticBag _diagnostics;

    public ArgumentBinder(DiagnosticBag diagnostics)
    {
        _diagnostics = diagnostics;
    }

    /// <summary>Binds <c>name(args)</c> or a bare <c>name</c>. For <c>ema</c>/<c>stopgrad</c>,
    /// <paramref name="encoderArgument"/> is the positional encoder argument.</summary>
    public BoundCall Bind(ExpressionSyntax syntax, Builtin spec, out ExpressionSyntax? encoderArgument)
    {
        var arguments = syntax is CallSyntax call ? call.Arguments : EquatableArray<ArgumentSyntax>.Empty;
        var nameSpan = NameSpan(syntax);
        encoderArgument = null;
        var hasErrors = false;
        var given = new Dictionary<string, (BoundValue Value, SourceSpan Span)>();
        var sawPositional = false;
        var sawStrayArgument = false; // an unknown or unnamed argument: the missing parameter is probably that one
        foreach (var argument in arguments)
        {
            if (argument.Name is null)
            {
                if (spec.Has(BuiltinFlags.TakesEncoder) && !sawPositional && given.Count == 0)
                {
                    encoderArgument = argument.Value;
                    sawPositional = true;
                    continue;
                }

                var hint = spec.Has(BuiltinFlags.TakesEncoder)
                    ? spec.Parameters.Count == 0
                        ? $"it takes only the encoder, as in {spec.Name}(context)"
                        : $"only the encoder comes unnamed, first; name the others, as in {spec.Name}(context, {ParameterList(spec)}: ...)"
                    : spec.Parameters.Count == 0
                        ? $"{spec.Name} takes no arguments"
                        : $"write name: value, with one of its parameters ({ParameterList(spec)})";
                _diagnostics.Report(DiagnosticDescriptors.PositionalArgument, argument.Span, spec.Name, hint);
                hasErrors = sawStrayArgument = true;
                continue;
            }

            var parameter = spec.Find(argument.Name.Text);
            if (parameter is null)
            {
                var suggestion = Suggestions.DidYouMean(argument.Name.Text, spec.Parameters.Select(p => p.Name));
                var known = spec.Parameters.Count == 0 ? "it takes no parameters" : "its parameters are " + ParameterList(spec);
                _diagnostics.Report(DiagnosticDescriptors.UnknownParameter, argument.Name.Span, spec.Name, argument.Name.Text, suggestion + known);
                hasErrors = sawStrayArgument = true;
                continue;
            }

            if (given.ContainsKey(parameter.Name))
            {
                _diagnostics.Report(DiagnosticDescriptors.DuplicateArgument, argument.Name.Span, parameter.Name, spec.Name);
                hasErrors = true;
                continue;
            }

            var value = BindValue(argument.Value, parameter, $"'{parameter.Name}' of {spec.Name}");
            hasErrors |= value is ErrorValue;
            given[parameter.Name] = (value, argument.Value.Span);
        }

        if (spec.Has(BuiltinFlags.TakesEncoder) && encoderArgument is null)
        {
            _diagnostics.Report(DiagnosticDescriptors.MissingParameter, nameSpan, spec.Name, "encoder", "the encoder it copies",
                $"name it first, as in {spec.Name}(context)");
            hasErrors = true;
        }

        var bound = new List<BoundArgument>();
        foreach (var parameter in spec.Parameters)
        {
            if (given.TryGetValue(parameter.Name, out var value))
            {
                bound.Add(new BoundArgument(parameter.Name, parameter.Type, value.Value, false, value.Span));
            }
            else if (parameter.Default is not null)
            {
                bound.Add(new BoundArgument(parameter.Name, parameter.Type, parameter.Default, true, nameSpan));
            }
            else if (parameter.Required && !sawStrayArgument)
            {
                var what = parameter.Note is null ? parameter.Describe() : parameter.Note + ", " + parameter.Describe();
                _diagnostics.Report(DiagnosticDescriptors.MissingParameter, nameSpan, spec.Name, parameter.Name, what, $"add {parameter.Name}: ...");
                bound.Add(new BoundArgument(parameter.Name, parameter.Type, ErrorValue.Instance, true, nameSpan));
                hasErrors = true;
            }
        }

        return new BoundCall(spec.Name, syntax.Span, bound.ToEquatableArray(), hasErrors, spec);
    }

    /// <summary>Binds one value against a parameter; <paramref name="subject"/> names it in messages
    /// ("'ratio' of random_mask", "batch").</summary>
    public BoundValue BindValue(ExpressionSyntax value, Parameter parameter, string subject)
    {
        switch (parameter.Type)
        {
            case ParameterType.Integer:
            case ParameterType.Number:
                return value is NumberSyntax number ? BindNumber(number, parameter, subject) : WrongType(value, parameter, subject);

            case ParameterType.NumberOrSchedule:
                if (value is ScheduleSyntax schedule)
                {
                    var start = BindNumber(schedule.Start, parameter, subject);
                    var end = BindNumber(schedule.End, parameter, subject);
                    return start is NumberValue s && end is NumberValue e ? new ScheduleValue(s.Value, e.Value) : ErrorValue.Instance;
                }

                return value is NumberSyntax plain ? BindNumber(plain, parameter, subject) : WrongType(value, parameter, subject);

            case ParameterType.Range:
                if (value is RangeSyntax range)
                {
                    var low = BindNumber(range.Low, parameter, subject);
                    var high = BindNumber(range.High, parameter, subject);
                    if (low is not NumberValue l || high is not NumberValue h)
                    {
                        return ErrorValue.Instance;
                    }

                    if (l.Value > h.Value)
                    {
                        _diagnostics.Report(DiagnosticDescriptors.EmptyRange, range.Span, range.Low.Text, range.High.Text);
                        return ErrorValue.Instance;
                    }

                    return new RangeValue(l.Value, h.Value);
                }

                return WrongType(value, parameter, subject,
                    value is NumberSyntax single ? $" (write {single.Text}..{single.Text} for a fixed value)" : string.Empty);

            case ParameterType.IntegerList:
            case ParameterType.NumberList:
                if (value is ListSyntax list)
                {
                    return BindList(list, parameter, subject);
                }

                return WrongType(value, parameter, subject, value is NumberSyntax one ? $" (write [{one.Text}] for a list)" : string.Empty);

            case ParameterType.Option:
                if (value is NameSyntax { Name.IsQualified: false } option)
                {
                    if (parameter.Options!.Contains(option.Text))
                    {
                        return new OptionValue(option.Text);
                    }

                    var suggestion = Suggestions.Closest(option.Text, parameter.Options!);
                    _diagnostics.Report(DiagnosticDescriptors.UnknownOptionValue, value.Span, subject, Suggestions.OrList(parameter.Options!),
                        option.Text, suggestion is null ? string.Empty : $"; did you mean '{suggestion}'?");
                    return ErrorValue.Instance;
                }

                return WrongType(value, parameter, subject);

            case ParameterType.Boolean:
                return value is NameSyntax { Text: "true" or "false" } boolean
                    ? new BooleanValue(boolean.Text == "true")
                    : WrongType(value, parameter, subject);

            default:
                return BindAny(value, parameter, subject);
        }
    }

    private BoundValue BindNumber(NumberSyntax number, Parameter parameter, string subject)
    {
        if (double.IsInfinity(number.Value) || double.IsNaN(number.Value))
        {
            return ErrorValue.Instance; // JEPA005 was reported by the parser.
        }

        var wantsInteger = parameter.Type is ParameterType.Integer or ParameterType.IntegerList;
        if (wantsInteger && Math.Floor(number.Value) != number.Value)
        {
            _diagnostics.Report(DiagnosticDescriptors.WrongValueType, number.Span, subject,
                parameter.Type == ParameterType.Integer ? parameter.Describe() : "a list of integers", $"the number {number.Text}");
            return ErrorValue.Instance;
        }

        if (parameter.Bounds is { } bounds && !bounds.Contains(number.Value))
        {
            _diagnostics.Report(DiagnosticDescriptors.ValueOutOfRange, number.Span, subject, bounds.Describe(), number.Text);
            return ErrorValue.Instance;
        }

        if (wantsInteger && Math.Abs(number.Value) > int.MaxValue)
        {
            _diagnostics.Report(DiagnosticDescriptors.ValueOutOfRange, number.Span, subject, "at most " + int.MaxValue, number.Text);
            return ErrorValue.Instance;
        }

        return new NumberValue(number.Value);
    }

    private BoundValue BindList(ListSyntax list, Parameter parameter, string subject)
    {
        if (parameter.NonEmpty && list.Items.Count == 0)
        {
            _diagnostics.Report(DiagnosticDescriptors.ValueOutOfRange, list.Span, subject, "a non-empty list", "[]");
            return ErrorValue.Instance;
        }

        if (parameter.Length is { } length && list.Items.Count != length)
        {
            _diagnostics.Report(DiagnosticDescriptors.ValueOutOfRange, list.Span, subject, $"a list of {length} numbers", list.ToString());
            return ErrorValue.Instance;
        }

        var items = new List<BoundValue>();
        var failed = false;
        foreach (var item in list.Items)
        {
            if (item is NumberSyntax number)
            {
                var bound = BindNumber(number, parameter, subject);
                failed |= bound is ErrorValue;
                items.Add(bound);
            }
            else
            {
                _diagnostics.Report(DiagnosticDescriptors.WrongValueType, item.Span, subject, parameter.Describe(), "a list holding " + Describe(item));
                failed = true;
            }
        }

        return failed ? ErrorValue.Instance : new ListValue(items.ToEquatableArray());
    }

    private BoundValue BindAny(ExpressionSyntax value, Parameter parameter, string subject)
    {
        switch (value)
        {
            case NumberSyntax number:
                return double.IsInfinity(number.Value) ? ErrorValue.Instance : new NumberValue(number.Value);
            case NameSyntax { Text: "true" or "false" } boolean:
                return new BooleanValue(boolean.Text == "true");
            case ListSyntax list when list.Items.All(i => i is NumberSyntax):
                return list.Items.Any(i => double.IsInfinity(((NumberSyntax)i).Value))
                    ? ErrorValue.Instance
                    : new ListValue(list.Items.Select(i => (BoundValue)new NumberValue(((NumberSyntax)i).Value)).ToEquatableArray());
            default:
                return WrongType(value, parameter, subject);
        }
    }

    private BoundValue WrongType(ExpressionSyntax value, Parameter parameter, string subject, string hint = "")
    {
        _diagnostics.Report(DiagnosticDescriptors.WrongValueType, value.Span, subject, parameter.Describe(), Describe(value) + hint);
        return ErrorValue.Instance;
    }

    /// <summary>How a message names a value the user wrote.</summary>
    public static string Describe(ExpressionSyntax value) => value switch
    {
        NumberSyntax number => $"the number {number.Text}",
        RangeSyntax range => $"the range {range}",
        ScheduleSyntax schedule => $"the schedule {schedule}",
        ListSyntax list => $"the list {list}",
        NameSyntax name => $"the name '{name.Text}'",
        CallSyntax call => $"the call {call.Name.Text}(...)",
        _ => "this value",
    };

    public static SourceSpan NameSpan(ExpressionSyntax syntax) => syntax switch
    {
        CallSyntax call => call.Name.Span,
        _ => syntax.Span,
    };

    private static string ParameterList(Builtin spec) => string.Join(", ", spec.Parameters.Select(p => p.Name));
}
