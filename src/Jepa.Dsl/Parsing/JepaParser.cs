using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Syntax;
using Jepa.Dsl.Text;
using Sprache;

namespace Jepa.Dsl.Parsing;

/// <summary>
/// Parses a whole file: the statement loop of each level (file, experiment, block) dispatches on the statement's
/// keyword to a Sprache statement parser from <see cref="Grammar"/>. A statement that fails to parse gives one
/// diagnostic at the offending token, and parsing resumes at the next <c>;</c> or <c>}</c> of the same nesting, or at a
/// statement keyword that starts a line, so one file reports all its syntax errors.
/// </summary>
public sealed class JepaParser
{
    private enum Level
    {
        File,
        Experiment,
        Objective,
        Train,
        Evaluate,
        Monitor,
    }

    private static readonly string[] FileKeywords = { "namespace", "experiment" };
    private static readonly string[] ExperimentKeywords = { "input", "corruption", "views", "encoder", "projector", "predictor", "objective", "train", "evaluate", "monitor" };
    private static readonly string[] ObjectiveKeywords = { "predict", "loss", "regularize" };
    private static readonly string[] TrainKeywords = { "optimizer", "schedule", "batch", "epochs", "steps", "seed", "device", "clip" };
    private static readonly string[] EvaluateItems = { "linear_probe", "few_shot", "knn", "split", "online" };
    private static readonly string[] MonitorItems = { "collapse" };

    private static readonly Dictionary<string, Parser<StatementSyntax>> StatementParsers = new()
    {
        ["input"] = Grammar.Input,
        ["corruption"] = Grammar.Corruption,
        ["encoder"] = Grammar.Encoder,
        ["views"] = Grammar.Views,
        ["projector"] = Grammar.Projector,
        ["predictor"] = Grammar.Predictor,
        ["predict"] = Grammar.Predict,
        ["loss"] = Grammar.Loss,
        ["regularize"] = Grammar.Regularize,
    };

    private static readonly Dictionary<string, Parser<StatementSyntax>> SettingParsers =
        TrainKeywords.ToDictionary(k => k, Grammar.Setting);

    private static readonly Dictionary<string, Parser<IdentifierSyntax>> BlockHeaders =
        new[] { "objective", "train", "evaluate", "monitor" }.ToDictionary(k => k, Grammar.BlockHeader);

    private readonly ParseContext _context;
    private readonly string _text;
    private readonly List<Diagnostic> _diagnostics = new();
    private readonly CancellationToken _cancellationToken;

    private JepaParser(string text, CancellationToken cancellationToken)
    {
        _context = new ParseContext(text);
        _text = text;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Parses <paramref name="text"/>; never throws on any input (only on cancellation).</summary>
    public static JepaSyntaxTree Parse(string text, CancellationToken cancellationToken = default) =>
        new JepaParser(text ?? string.Empty, cancellationToken).ParseFile();

    internal LineMap Lines => _context.Lines;

    private JepaSyntaxTree ParseFile()
    {
        var unterminated = new List<int>();
        var comments = Lexer.ScanComments(_text, unterminated)
            .Select(c => _context.Lines.Span(c.Start, c.End))
            .ToEquatableArray();
        foreach (var start in unterminated)
        {
            Report(DiagnosticDescriptors.UnterminatedComment, _context.Lines.Span(start, start + 2));
        }

        var position = Lexer.SkipTrivia(_text, 0);
        NamespaceSyntax? @namespace = null;
        var experiments = new List<ExperimentSyntax>();
        var sawExperiment = false;
        if (IsWordAt(position, "namespace"))
        {
            var result = Grammar.Namespace(At(position));
            if (result.WasSuccessful)
            {
                @namespace = result.Value;
                position = result.Remainder.Position;
            }
            else
            {
                ReportSyntaxError(result);
                position = Recover(position, result.Remainder.Position, Level.File);
            }
        }

        while (position < _text.Length)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            if (IsWordAt(position, "experiment"))
            {
                sawExperiment = true;
                var experiment = ParseExperiment(ref position);
                if (experiment is not null)
                {
                    experiments.Add(experiment);
                }

                continue;
            }

            var word = WordAt(position);
            if (word == "namespace")
            {
                Report(DiagnosticDescriptors.SyntaxError, TokenSpan(position), "'namespace'", "'experiment' (a namespace line must come first in the file)");
            }
            else if (word is not null)
            {
                ReportUnknownStatement(position, word, Level.File);
            }
            else
            {
                Report(DiagnosticDescriptors.SyntaxError, TokenSpan(position), Lexer.Describe(_text, position), "'experiment'");
            }

            position = Recover(position, position, Level.File);
        }

        if (!sawExperiment && _diagnostics.Count == 0)
        {
            Report(DiagnosticDescriptors.NoExperiment, _context.Lines.Span(_text.Length, _text.Length));
        }

        foreach (var start in _context.OutOfRangeNumbers)
        {
            var end = Lexer.ScanNumber(_text, start);
            Report(DiagnosticDescriptors.NumberOutOfRange, _context.Lines.Span(start, end), _text.Substring(start, end - start));
        }

        var tree = new JepaSyntaxTree(_text, @namespace, experiments.ToEquatableArray(), comments, default);
        return tree with { Diagnostics = _diagnostics.OrderBy(d => d.Span.Start).ThenBy(d => d.Id, System.StringComparer.Ordinal).ToEquatableArray() };
    }

    private ExperimentSyntax? ParseExperiment(ref int position)
    {
        var start = position;
        var header = Grammar.ExperimentHeader(At(position));
        if (!header.WasSuccessful)
        {
            ReportSyntaxError(header);
            position = Recover(start, header.Remainder.Position, Level.File);
            return null;
        }

        position = header.Remainder.Position;
        var (keyword, name) = header.Value;
        var statements = ParseBody(Level.Experiment, ref position, out var end);
        return new ExperimentSyntax(keyword, name, statements, _context.Lines.Span(start, end));
    }

    /// <summary>Statements up to the closing brace; <paramref name="end"/> is the offset after the brace (or after the
    /// last statement when the brace is missing).</summary>
    private EquatableArray<StatementSyntax> ParseBody(Level level, ref int position, out int end)
    {
        var statements = new List<StatementSyntax>();
        end = position;
        while (true)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            if (position >= _text.Length)
            {
                Report(DiagnosticDescriptors.SyntaxError, TokenSpan(position), "end of file", "'}'");
                return statements.ToEquatableArray();
            }

            if (_text[position] == '}')
            {
                end = position + 1;
                position = Lexer.SkipTrivia(_text, position + 1);
                return statements.ToEquatableArray();
            }

            var start = position;
            var word = WordAt(position);
            if (word is not null && BelongsToEnclosingLevel(word, level))
            {
                // The block was not closed: report the missing brace here and let the enclosing level continue.
                Report(DiagnosticDescriptors.SyntaxError, TokenSpan(position), $"'{word}'", "'}'");
                return statements.ToEquatableArray();
            }

            if (word is null)
            {
                Report(DiagnosticDescriptors.SyntaxError, TokenSpan(position), Lexer.Describe(_text, position), ExpectedStatement(level));
                position = Recover(start, position, level);
                end = EndOfPrevious(position);
                continue;
            }

            var statement = ParseStatement(level, word, ref position);
            if (statement is not null)
            {
                statements.Add(statement);
            }

            end = EndOfPrevious(position);
        }
    }

    private StatementSyntax? ParseStatement(Level level, string word, ref int position)
    {
        var start = position;
        Parser<StatementSyntax>? parser = null;
        switch (level)
        {
            case Level.Experiment when BlockHeaders.TryGetValue(word, out var blockHeader):
                return ParseBlock(word, blockHeader, ref position);
            case Level.Experiment when Keywords(level).Contains(word):
            case Level.Objective when Keywords(level).Contains(word):
                parser = StatementParsers[word];
                break;
            case Level.Train when SettingParsers.TryGetValue(word, out var setting):
                parser = setting;
                break;
            case Level.Evaluate:
            case Level.Monitor:
                parser = Grammar.CallItem;
                break;
        }

        if (parser is null)
        {
            ReportUnknownStatement(position, word, level);
            position = Recover(start, position, level);
            return ErrorStatement(start, position);
        }

        var result = parser(At(position));
        if (result.WasSuccessful)
        {
            position = result.Remainder.Position;
            return result.Value;
        }

        ReportSyntaxError(result);
        position = Recover(start, result.Remainder.Position, level);
        return ErrorStatement(start, position);
    }

    /// <summary>The error node for a statement from <paramref name="start"/> that failed; recovery resumed at
    /// <paramref name="resume"/>.</summary>
    private ErrorStatementSyntax ErrorStatement(int start, int resume)
    {
        var keywordEnd = Lexer.ScanIdentifier(_text, start);
        var keyword = new IdentifierSyntax(_text.Substring(start, keywordEnd - start), _context.Lines.Span(start, keywordEnd));
        IdentifierSyntax? name = null;
        var nameStart = Lexer.SkipTrivia(_text, keywordEnd);
        var nameEnd = Lexer.ScanIdentifier(_text, nameStart);
        if (nameEnd > nameStart && nameEnd <= resume && keyword.Text is "input" or "corruption" or "views" or "encoder")
        {
            name = new IdentifierSyntax(_text.Substring(nameStart, nameEnd - nameStart), _context.Lines.Span(nameStart, nameEnd));
        }

        var end = System.Math.Max(keywordEnd, EndOfPrevious(resume));
        return new ErrorStatementSyntax(keyword, name, _context.Lines.Span(start, end));
    }

    private StatementSyntax? ParseBlock(string word, Parser<IdentifierSyntax> header, ref int position)
    {
        var start = position;
        var result = header(At(position));
        if (!result.WasSuccessful)
        {
            ReportSyntaxError(result);
            position = Recover(start, result.Remainder.Position, Level.Experiment);
            return ErrorStatement(start, position);
        }

        position = result.Remainder.Position;
        var (kind, level) = word switch
        {
            "objective" => (BlockKind.Objective, Level.Objective),
            "train" => (BlockKind.Train, Level.Train),
            "evaluate" => (BlockKind.Evaluate, Level.Evaluate),
            _ => (BlockKind.Monitor, Level.Monitor),
        };
        var statements = ParseBody(level, ref position, out var end);
        return new BlockSyntax(result.Value, kind, statements, _context.Lines.Span(start, end));
    }

    /// <summary>
    /// Where to resume after a statement that failed at <paramref name="failure"/>: after the next <c>;</c> at the
    /// same brace depth, after a block that the junk opened, before the <c>}</c> that closes the enclosing block, or at
    /// a statement keyword of this or an enclosing level that starts a line (or stands at the failure itself, as in a
    /// missing <c>;</c>). Always moves past <paramref name="start"/>.
    /// </summary>
    private int Recover(int start, int failure, Level level)
    {
        var position = failure;
        var depth = 0;
        while (position < _text.Length)
        {
            var c = _text[position];
            if (depth == 0 && position > start && (position == failure || Lexer.IsFirstOnLine(_text, position)))
            {
                var word = WordAt(position);
                if (word is not null && (Keywords(level).Contains(word) || BelongsToEnclosingLevel(word, level)))
                {
                    return position;
                }
            }

            if (c == '{')
            {
                depth++;
            }
            else if (c == '}')
            {
                if (depth == 0)
                {
                    if (position > start)
                    {
                        return position;
                    }

                    // A stray '}' where the statement started: skip it.
                    return Lexer.SkipTrivia(_text, position + 1);
                }

                depth--;
                if (depth == 0)
                {
                    return Lexer.SkipTrivia(_text, position + 1);
                }
            }
            else if (c == ';' && depth == 0)
            {
                return Lexer.SkipTrivia(_text, position + 1);
            }

            position = Lexer.SkipTrivia(_text, Lexer.TokenEnd(_text, position));
        }

        return _text.Length;
    }

    private static string[] Keywords(Level level) => level switch
    {
        Level.File => FileKeywords,
        Level.Experiment => ExperimentKeywords,
        Level.Objective => ObjectiveKeywords,
        Level.Train => TrainKeywords,
        Level.Evaluate => EvaluateItems,
        _ => MonitorItems,
    };

    private static bool BelongsToEnclosingLevel(string word, Level level) => level switch
    {
        Level.File => false,
        Level.Experiment => FileKeywords.Contains(word),
        _ => FileKeywords.Contains(word) || ExperimentKeywords.Contains(word),
    };

    private static string LevelDescription(Level level) => level switch
    {
        Level.File => "at the top of a file",
        Level.Experiment => "of an experiment",
        Level.Objective => "of an objective block",
        Level.Train => "of a train block",
        Level.Evaluate => "of an evaluate block",
        _ => "of a monitor block",
    };

    private static string ExpectedStatement(Level level) => level switch
    {
        Level.File => "'experiment'",
        Level.Evaluate or Level.Monitor => "an item such as " + Keywords(level)[0] + "(...) or '}'",
        _ => "a statement (" + Suggestions.OrList(Keywords(level)) + ") or '}'",
    };

    private void ReportUnknownStatement(int position, string word, Level level)
    {
        var keywords = Keywords(level);
        var suggestion = Suggestions.DidYouMean(word, keywords);
        var expected = "expected " + Suggestions.OrList(level == Level.File ? keywords : keywords.Append("'}'"));
        Report(DiagnosticDescriptors.UnknownStatement, TokenSpan(position), word, LevelDescription(level), suggestion + expected);
    }

    private void ReportSyntaxError<T>(IResult<T> failure)
    {
        var position = failure.Remainder.Position;
        var expectations = failure.Expectations.Distinct().ToList();
        Report(DiagnosticDescriptors.SyntaxError, TokenSpan(position), Lexer.Describe(_text, position),
            expectations.Count == 0 ? "a statement" : Suggestions.OrList(expectations));
    }

    private void Report(DiagnosticDescriptor descriptor, SourceSpan span, params object[] args) =>
        _diagnostics.Add(new Diagnostic(descriptor, span, descriptor.FormatMessage(args)));

    private SourceInput At(int position) => new(_context, position);

    private SourceSpan TokenSpan(int position) => _context.Lines.Span(position, Lexer.TokenEnd(_text, position));

    private string? WordAt(int position)
    {
        var end = Lexer.ScanIdentifier(_text, position);
        return end > position ? _text.Substring(position, end - position) : null;
    }

    private bool IsWordAt(int position, string word) => WordAt(position) == word;

    /// <summary>The end of the last token before <paramref name="position"/> (skipping back over trivia).</summary>
    private int EndOfPrevious(int position)
    {
        var end = position;
        while (end > 0 && char.IsWhiteSpace(_text[end - 1]))
        {
            end--;
        }

        return end;
    }
}
