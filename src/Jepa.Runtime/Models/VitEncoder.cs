using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Jepa.Runtime.Models;

/// <summary>
/// <c>vit(patch: p, dim: D, depth: L, heads: H, pool?)</c> (docs/models.md, I-JEPA's VisionTransformer without a class
/// token): <c>Conv2d(c, D, p, stride p)</c> patch embedding into <c>N = (h/p)(w/p)</c> tokens, a fixed 2-D sin-cos
/// positional embedding (a buffer), <c>L</c> pre-norm blocks and a final <c>LayerNorm(D)</c>. Without a pool the output
/// is the tokens <c>(B, N, D)</c>; with one it is their mean (or max) <c>(B, D)</c>.
/// Parameters: <c>c p^2 D + D + L (12 D^2 + 13 D) + 2 D</c>.
/// </summary>
public sealed class VitEncoder : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d patchEmbed;
    private readonly ModuleList<TransformerBlock> blocks;
    private readonly LayerNorm norm;
    private readonly Tensor posEmbed;

    private readonly long[] inputShape;
    private readonly Pool? pool;

    /// <summary>Creates the encoder for samples of shape <c>[c, h, w]</c>; <paramref name="patch"/> divides h and w.</summary>
    public VitEncoder(ReadOnlySpan<long> inputShape, int patch, int dim, int depth, int heads, Pool? pool = null, double initStd = 0.02)
        : base(nameof(VitEncoder))
    {
        if (inputShape.Length != 3) throw new ArgumentException($"vit needs an input shape [c, h, w], not {Shapes.Format(inputShape)}.", nameof(inputShape));
        if (patch < 1 || inputShape[1] % patch != 0 || inputShape[2] % patch != 0)
            throw new ArgumentException($"The patch size {patch} does not divide the {inputShape[1]}x{inputShape[2]} image.", nameof(patch));
        if (depth < 0) throw new ArgumentOutOfRangeException(nameof(depth), depth, "The depth cannot be negative.");
        this.inputShape = inputShape.ToArray();
        this.pool = pool;
        Grid = ((int)(inputShape[1] / patch), (int)(inputShape[2] / patch));
        Dim = dim;

        patchEmbed = nn.Conv2d(inputShape[0], dim, patch, stride: patch);
        blocks = nn.ModuleList(Enumerable.Range(0, depth).Select(_ => new TransformerBlock(dim, heads)).ToArray());
        norm = nn.LayerNorm(dim);
        posEmbed = PositionalEmbedding.SinCos2D(dim, Grid.H, Grid.W);                   // (N, D), a buffer
        RegisterComponents();

        using (no_grad())
        {
            Init.TruncatedNormal(patchEmbed.weight!, initStd);
            nn.init.zeros_(patchEmbed.bias!);
        }
        for (var i = 0; i < depth; i++) blocks[i].Initialize(i + 1, initStd);
    }

    /// <summary>The patch grid (rows, columns); <c>N = H * W</c> tokens.</summary>
    public (int H, int W) Grid { get; }

    /// <summary>The token width <c>D</c>.</summary>
    public int Dim { get; }

    /// <summary>The number of tokens <c>N</c>.</summary>
    public int TokenCount => Grid.H * Grid.W;

    /// <summary>(B, c, h, w) -> tokens (B, N, D), or (B, D) with a pool.</summary>
    public override Tensor forward(Tensor x) => Temporaries.Free(() => Head(Blocks(Embed(x))));

    /// <summary>
    /// The context side (I-JEPA's <c>apply_masks</c>): embeds every patch, adds the positional embedding, keeps only the
    /// tokens at <paramref name="keep"/> (B, K) and runs the blocks on them: (B, c, h, w) -> (B, K, D), or (B, D) with a pool.
    /// </summary>
    public Tensor forward(Tensor x, Tensor keep) => Temporaries.Free(() => Head(Blocks(Tokens.Gather(Embed(x), keep))));

    private Tensor Embed(Tensor x)
    {
        var image = x.reshape(x.shape[0], inputShape[0], inputShape[1], inputShape[2]);   // (B, c, h, w)
        var tokens = patchEmbed.forward(image).flatten(2).transpose(1, 2);                // (B, N, D), row-major
        return tokens + posEmbed;                                                         // (B, N, D)
    }

    private Tensor Blocks(Tensor x)
    {
        foreach (var block in blocks) x = block.forward(x);                               // (B, K, D)
        return norm.forward(x);
    }

    private Tensor Head(Tensor tokens) => pool switch
    {
        null => tokens,                                                                   // (B, K, D)
        Pool.Mean => Tokens.MeanPool(tokens),                                             // (B, D)
        _ => tokens.amax([1]),                                                            // (B, D)
    };
}
