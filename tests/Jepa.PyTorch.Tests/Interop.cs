using System.Collections;
using Jepa.Runtime.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Jepa.PyTorch.Tests;

/// <summary>Helpers shared by the tests: an experiment's tensors by the names the PyTorch programs use, and comparisons.</summary>
internal static class Interop
{
    /// <summary>Each module's state dict (cloned), by role: context, the target when it is a module of its own, predictor.</summary>
    public static Hashtable Modules(JepaExperiment e)
    {
        var modules = new Hashtable();
        foreach (var (role, module) in e.Modules())
        {
            if (role == "target" && ReferenceEquals(module, e.ContextModule)) continue;
            modules[role] = State(module);
        }
        return modules;
    }

    /// <summary>A module's state dict, cloned.</summary>
    public static Hashtable State(nn.Module module)
    {
        var tensors = new Hashtable();
        foreach (var (key, t) in module.state_dict()) tensors[key] = t.detach().clone();
        return tensors;
    }

    /// <summary>The trainable parameters as the trainer names them (<c>role.name</c>), each once.</summary>
    public static IEnumerable<(string Name, Parameter Parameter)> Trainable(JepaExperiment e)
    {
        var seen = new HashSet<IntPtr>();
        foreach (var (role, module) in e.Modules())
        {
            if (role == "target" && e.TargetKind == TargetKind.Ema) continue;
            foreach (var (name, p) in module.named_parameters())
                if (p.requires_grad && seen.Add(p.Handle)) yield return ($"{role}.{name}", p);
        }
    }

    /// <summary>max |a - b| over the entries.</summary>
    public static double MaxDifference(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return (a.detach().to(ScalarType.Float64) - b.detach().to(ScalarType.Float64)).abs().max().item<double>();
    }

    /// <summary>The largest absolute value over tensors.</summary>
    public static double MaxAbs(IEnumerable<Tensor> tensors)
    {
        using var scope = NewDisposeScope();
        return tensors.Select(t => t.detach().abs().max().to(ScalarType.Float64).item<double>()).DefaultIfEmpty(0).Max();
    }
}
