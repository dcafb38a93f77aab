using TorchSharp;

namespace Jepa.Runtime.Training;

/// <summary>One named, weighted loss term of a step.</summary>
/// <param name="Name">The term's name, as in the metrics (<c>smooth_l1</c>, <c>vicreg_variance</c>, ...).</param>
/// <param name="Value">A scalar tensor (part of the autograd graph).</param>
/// <param name="Weight">Its weight in the total loss.</param>
public sealed record LossTerm(string Name, torch.Tensor Value, double Weight);

/// <summary>
/// The loss terms of one training step. The total that is back-propagated is <c>sum(weight * value)</c>;
/// <see cref="StepContext.BackwardAndStep"/> checks every term is finite first and records their values here.
/// </summary>
public sealed class LossTerms : IReadOnlyList<LossTerm>
{
    private readonly List<LossTerm> terms = [];
    private Dictionary<string, double>? values;

    /// <summary>Adds a term; names are unique within a step.</summary>
    public void Add(string name, torch.Tensor value, double weight)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        if (values is not null) throw new InvalidOperationException($"Loss term '{name}' was added after the step was taken.");
        if (terms.Exists(t => t.Name == name)) throw new ArgumentException($"The loss term '{name}' was added twice in one step.", nameof(name));
        if (value.numel() != 1) throw new ArgumentException($"The loss term '{name}' must be a scalar; it has shape [{string.Join(", ", value.shape)}].", nameof(value));
        if (!double.IsFinite(weight)) throw new ArgumentException($"The weight of loss term '{name}' must be finite (is {weight}).", nameof(weight));
        terms.Add(new LossTerm(name, value, weight));
    }

    /// <summary>Adds a term with weight 1.</summary>
    public void Add(string name, torch.Tensor value) => Add(name, value, 1.0);

    public int Count => terms.Count;

    public LossTerm this[int index] => terms[index];

    /// <summary>Each term's value as read by <see cref="StepContext.BackwardAndStep"/> (unweighted), or null before that.</summary>
    public IReadOnlyDictionary<string, double>? Values => values;

    /// <summary>The weighted total as read by <see cref="StepContext.BackwardAndStep"/>, or null before that.</summary>
    public double? Total { get; private set; }

    internal void Record(Dictionary<string, double> read, double total)
    {
        values = read;
        Total = total;
    }

    public IEnumerator<LossTerm> GetEnumerator() => terms.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
