using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Jepa.Runtime.Models;

/// <summary>
/// Pre-norm transformer block (ViT / I-JEPA): <c>x = x + Attn(LN(x)); x = x + MLP(LN(x))</c>, with
/// <c>Attn</c> = <c>Linear(D, 3D)</c> for q, k, v, <paramref name="heads"/> heads and <c>Linear(D, D)</c>, and
/// <c>MLP</c> = <c>Linear(D, 4D)</c>, GELU, <c>Linear(4D, D)</c>. Parameters: <c>12 D^2 + 13 D</c>.
/// </summary>
public sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly LayerNorm norm2;
    private readonly Linear fc1;
    private readonly GELU act;
    private readonly Linear fc2;

    private readonly int heads;

    /// <summary>Creates a block of width <paramref name="dim"/>; <paramref name="heads"/> must divide it.</summary>
    public TransformerBlock(int dim, int heads, int mlpRatio = 4) : base(nameof(TransformerBlock))
    {
        if (heads < 1 || dim % heads != 0)
            throw new ArgumentException($"The width {dim} is not divisible by {heads} heads.", nameof(heads));
        this.heads = heads;
        norm1 = nn.LayerNorm(dim);
        qkv = nn.Linear(dim, 3 * dim);
        proj = nn.Linear(dim, dim);
        norm2 = nn.LayerNorm(dim);
        fc1 = nn.Linear(dim, mlpRatio * dim);
        act = nn.GELU();
        fc2 = nn.Linear(mlpRatio * dim, dim);
        RegisterComponents();
    }

    /// <summary>(B, N, D) -> (B, N, D).</summary>
    public override Tensor forward(Tensor x) => Temporaries.Free(() =>
    {
        x = x + Attention(norm1.forward(x));                         // (B, N, D)
        return x + fc2.forward(act.forward(fc1.forward(norm2.forward(x))));
    });

    private Tensor Attention(Tensor x)
    {
        long b = x.shape[0], n = x.shape[1], d = x.shape[2];
        var qkvHeads = qkv.forward(x)                                // (B, N, 3D)
            .reshape(b, n, 3, heads, d / heads)                      // (B, N, 3, H, Dh)
            .permute(2, 0, 3, 1, 4);                                 // (3, B, H, N, Dh)
        var attended = nn.functional.scaled_dot_product_attention(qkvHeads[0], qkvHeads[1], qkvHeads[2]);   // (B, H, N, Dh)
        return proj.forward(attended.transpose(1, 2).reshape(b, n, d));                                   // (B, N, D)
    }

    /// <summary>
    /// I-JEPA's initialisation: weights of every Linear truncated normal (std <paramref name="std"/>, cut at 2 std), biases zero,
    /// LayerNorm 1 and 0; the two residual output projections scaled by <c>1 / sqrt(2 * layer)</c> (layer from 1).
    /// </summary>
    internal void Initialize(int layer, double std)
    {
        using var _ = no_grad();
        foreach (var linear in new[] { qkv, proj, fc1, fc2 })
        {
            Init.TruncatedNormal(linear.weight!, std);
            nn.init.zeros_(linear.bias!);
        }
        proj.weight!.div_(Math.Sqrt(2.0 * layer));
        fc2.weight!.div_(Math.Sqrt(2.0 * layer));
    }
}
