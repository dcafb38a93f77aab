using System;
using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Diagnostics;

/// <summary>"Did you mean" for near misses: the closest candidate by <see cref="EditDistance"/> (an adjacent swap
/// costs one edit), case-insensitive, within a budget that grows with the length of the name.</summary>
internal static class Suggestions
{
    /// <summary>The closest candidate, or null when none is near enough.</summary>
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        var budget = name.Length <= 3 ? 1 : name.Length <= 6 ? 2 : 3;
        foreach (var candidate in candidates)
        {
            if (string.Equals(candidate, name, StringComparison.Ordinal))
            {
                continue;
            }

            var distance = EditDistance.Between(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance <= budget && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary>"did you mean 'x'? " or an empty string.</summary>
    public static string DidYouMean(string name, IEnumerable<string> candidates)
    {
        var closest = Closest(name, candidates);
        return closest is null ? string.Empty : $"did you mean '{closest}'? ";
    }

    /// <summary>"a, b or c".</summary>
    public static string OrList(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count switch
        {
            0 => string.Empty,
            1 => list[0],
            _ => string.Join(", ", list.Take(list.Count - 1)) + " or " + list[list.Count - 1],
        };
    }
}
