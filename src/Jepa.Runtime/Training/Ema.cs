using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>The EMA target: a copy of the online encoder that follows it, parameters and buffers, as an exponential moving average.</summary>
public static class Ema
{
    /// <summary>
    /// A second module from <paramref name="create"/> (same architecture; TorchSharp has no deepcopy) holding
    /// <paramref name="source"/>'s parameters and buffers, with gradients turned off on every parameter.
    /// </summary>
    public static T CopyOf<T>(T source, Func<T> create) where T : nn.Module
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(create);
        var copy = create();
        if (ReferenceEquals(copy, source)) throw new ArgumentException("create must return a new module, not the source.", nameof(create));
        CopyState(source, copy);
        foreach (var p in copy.parameters()) p.requires_grad = false;
        return copy;
    }

    /// <summary>Copies every parameter and buffer of <paramref name="from"/> into <paramref name="to"/> (same names and shapes).</summary>
    public static void CopyState(nn.Module from, nn.Module to)
    {
        var source = from.state_dict();
        var target = to.state_dict();
        if (source.Count != target.Count || source.Keys.Except(target.Keys).Any())
            throw new ArgumentException($"The modules differ: {Describe(source.Keys, target.Keys)}.");
        using var _ = no_grad();
        foreach (var (name, value) in source)
        {
            var t = target[name];
            if (!t.shape.SequenceEqual(value.shape))
                throw new ArgumentException($"The modules differ: '{name}' has shape [{string.Join(", ", value.shape)}] in the source and [{string.Join(", ", t.shape)}] in the copy.");
            t.copy_(value);
        }
    }

    /// <summary>
    /// <c>t &lt;- m * t + (1 - m) * o</c> for each parameter pair, and for each floating-point buffer pair (batch norm's
    /// running mean and variance) as <c>t &lt;- t + (1 - m) (o - t)</c> (which leaves a buffer that equals the online
    /// one, such as a fixed positional embedding, bit for bit unchanged); other buffers (batch norm's
    /// <c>num_batches_tracked</c> counter) are copied. Under no-grad. Why an average of the running statistics rather than
    /// a copy: the target's weights average the online weights of about the last <c>1 / (1 - m)</c> steps, and its
    /// statistics then describe the activations of the same window (timm's <c>ModelEmaV2</c>,
    /// <c>torch.optim.swa_utils.AveragedModel(use_buffers = True)</c>); a copy would pair lagging weights with the online
    /// network's current statistics. The target's own forward passes in training mode still move them too (as BYOL's
    /// target keeps its own batch-norm state); both only matter where the target runs in evaluation mode.
    /// </summary>
    public static void Update(nn.Module target, nn.Module online, double momentum)
    {
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "EMA momentum must lie in [0, 1]");
        var t = target.parameters().ToArray();
        var o = online.parameters().ToArray();
        if (t.Length != o.Length)
            throw new ArgumentException($"The EMA target has {t.Length} parameters and the online module {o.Length}; they must share an architecture.");
        var tb = target.named_buffers().ToArray();
        var ob = online.named_buffers().ToArray();
        if (tb.Length != ob.Length || tb.Zip(ob).Any(p => p.First.name != p.Second.name))
            throw new ArgumentException($"The EMA target and the online module have different buffers: {Describe(tb.Select(b => b.name), ob.Select(b => b.name))}.");
        using var _ = no_grad();
        // Explicit scalars, alive until disposed: TorchSharp's implicit double -> Scalar conversions can be finalized
        // while native code still reads them if another thread triggers a garbage collection.
        using var keep = momentum.ToScalar();
        using var mix = (1 - momentum).ToScalar();
        for (var i = 0; i < t.Length; i++)
        {
            CheckShape($"EMA parameter {i}", t[i], o[i]);
            t[i].mul_(keep).add_(o[i], alpha: mix);
        }
        for (var i = 0; i < tb.Length; i++)
        {
            var (name, tt) = tb[i];
            var ot = ob[i].buffer;
            CheckShape($"EMA buffer '{name}'", tt, ot);
            if (!tt.is_floating_point())
            {
                tt.copy_(ot);
                continue;
            }
            using var step = ot - tt;
            tt.add_(step, alpha: mix);
        }
    }

    private static void CheckShape(string what, Tensor target, Tensor online)
    {
        if (!target.shape.SequenceEqual(online.shape))
            throw new ArgumentException($"{what} has shape [{string.Join(", ", target.shape)}] in the target and [{string.Join(", ", online.shape)}] in the online module.");
    }

    private static string Describe(IEnumerable<string> a, IEnumerable<string> b)
    {
        var onlyA = a.Except(b).ToArray();
        var onlyB = b.Except(a).ToArray();
        return $"only in the source: [{string.Join(", ", onlyA)}]; only in the copy: [{string.Join(", ", onlyB)}]";
    }
}
