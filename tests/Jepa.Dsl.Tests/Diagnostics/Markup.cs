namespace Jepa.Dsl.Tests.Diagnostics;

/// <summary>Source text with the expected span marked inline as <c>[|...|]</c> (the markers are removed).</summary>
public static class Markup
{
    public static (string Text, int Start, int Length) Parse(string marked)
    {
        var open = marked.IndexOf("[|", StringComparison.Ordinal);
        var close = marked.IndexOf("|]", StringComparison.Ordinal);
        Assert.True(open >= 0 && close > open, "the test source needs one [|...|] marker");
        Assert.True(marked.IndexOf("[|", open + 2, StringComparison.Ordinal) < 0, "the test source has more than one marker");
        var text = marked.Remove(close, 2).Remove(open, 2);
        return (text, open, close - open - 2);
    }
}
