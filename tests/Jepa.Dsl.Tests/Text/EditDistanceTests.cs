using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Tests.Text;

public class EditDistanceTests
{
    [Theory]
    [InlineData("", "", 0)]
    [InlineData("", "abc", 3)]
    [InlineData("mse", "mse", 0)]
    [InlineData("mpl", "mlp", 1)]          // an adjacent swap is one edit (Levenshtein counts 2)
    [InlineData("--setps", "--steps", 1)]
    [InlineData("--stepz", "--steps", 1)]
    [InlineData("smoth_l1", "smooth_l1", 1)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("ca", "abc", 3)]           // optimal string alignment: no edit of a swapped pair again
    public void Counts_insertions_deletions_substitutions_and_adjacent_swaps(string a, string b, int expected)
    {
        Assert.Equal(expected, EditDistance.Between(a, b));
        Assert.Equal(expected, EditDistance.Between(b, a));
    }

    [Fact]
    public void Suggestions_use_it_case_insensitively_within_a_budget_that_grows_with_the_name()
    {
        Assert.Equal("mlp", Suggestions.Closest("MPL", ["mlp", "vit", "conv"]));
        Assert.Equal("smooth_l1", Suggestions.Closest("smoth_l1", ["mse", "smooth_l1"]));
        Assert.Null(Suggestions.Closest("xyz", ["mlp", "vit"]));
    }
}
