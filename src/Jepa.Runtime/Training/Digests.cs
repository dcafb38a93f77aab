using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>Digests that tell runs apart bit for bit (<see cref="JepaExperiment.ParameterDigest"/>).</summary>
internal static class Digests
{
    /// <summary>
    /// SHA-256 (64 hex digits) of every parameter and buffer of the context encoder, the target (when it is a module of
    /// its own) and the predictor: names, types, shapes and raw bytes, in order.
    /// </summary>
    public static string Parameters(JepaExperiment experiment)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var seen = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        foreach (var (role, module) in experiment.Modules())
        {
            if (!seen.Add(module)) continue;
            foreach (var (key, tensor) in module.state_dict())
            {
                sha.AppendData(Encoding.UTF8.GetBytes($"{role}.{key}:{tensor.dtype}[{string.Join(",", tensor.shape)}]\n"));
                using var scope = NewDisposeScope();
                sha.AppendData(tensor.detach().cpu().contiguous().bytes);
            }
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }
}
