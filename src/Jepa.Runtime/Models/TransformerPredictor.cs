using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Jepa.Runtime.Models;

/// <summary>
/// <c>transformer(dim: Dp, depth: L, heads: H)</c>, I-JEPA's predictor (docs/models.md): <c>Linear(D, Dp)</c> on the
/// context tokens plus the fixed positional embedding of their positions; one learned mask token <c>(Dp)</c> per target
/// position plus that position's embedding; <c>[context; mask tokens]</c> through <c>L</c> pre-norm blocks and
/// <c>LayerNorm(Dp)</c>; the outputs at the mask tokens through <c>Linear(Dp, D)</c>.
/// Parameters: <c>D Dp + Dp + Dp + L (12 Dp^2 + 13 Dp) + 2 Dp + Dp D + D</c>.
/// All target blocks are predicted in one pass (their mask tokens attend to each other); I-JEPA runs one pass per block.
/// </summary>
public sealed class TransformerPredictor : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Linear embed;
    private readonly Parameter maskToken;
    private readonly ModuleList<TransformerBlock> blocks;
    private readonly LayerNorm norm;
    private readonly Linear proj;
    private readonly Tensor posEmbed;

    /// <summary>Creates the predictor for an encoder of width <paramref name="encoderDim"/> on a token grid.</summary>
    public TransformerPredictor(int encoderDim, int dim, int depth, int heads, (int H, int W) grid, double initStd = 0.02)
        : base(nameof(TransformerPredictor))
    {
        if (grid.H < 1 || grid.W < 1) throw new ArgumentOutOfRangeException(nameof(grid), grid, "The token grid must be at least 1x1.");
        Grid = grid;
        embed = nn.Linear(encoderDim, dim);
        maskToken = nn.Parameter(zeros(1, 1, dim));
        blocks = nn.ModuleList(Enumerable.Range(0, depth).Select(_ => new TransformerBlock(dim, heads)).ToArray());
        norm = nn.LayerNorm(dim);
        proj = nn.Linear(dim, encoderDim);
        posEmbed = PositionalEmbedding.SinCos2D(dim, grid.H, grid.W);                   // (N, Dp), a buffer
        RegisterComponents();

        using (no_grad())
        {
            foreach (var linear in new[] { embed, proj })
            {
                Init.TruncatedNormal(linear.weight!, initStd);
                nn.init.zeros_(linear.bias!);
            }
            Init.TruncatedNormal(maskToken, initStd);
        }
        for (var i = 0; i < depth; i++) blocks[i].Initialize(i + 1, initStd);
    }

    /// <summary>The token grid the positions refer to.</summary>
    public (int H, int W) Grid { get; }

    /// <summary>
    /// Predicts the target tokens: context (B, Nc, D), contextIdx (B, Nc) long, targetIdx (B, Nt) long -> (B, Nt, D).
    /// </summary>
    public override Tensor forward(Tensor context, Tensor contextIdx, Tensor targetIdx) => Temporaries.Free(() =>
    {
        long b = context.shape[0], nt = targetIdx.shape[1];
        var x = embed.forward(context) + Tokens.Positions(posEmbed, contextIdx);             // (B, Nc, Dp)
        var m = maskToken.expand(b, nt, -1) + Tokens.Positions(posEmbed, targetIdx);         // (B, Nt, Dp)
        var z = cat([x, m], 1);                                                             // (B, Nc + Nt, Dp)
        foreach (var block in blocks) z = block.forward(z);
        z = norm.forward(z)[.., ^(int)nt..];                                                 // (B, Nt, Dp)
        return proj.forward(z);                                                              // (B, Nt, D)
    });
}
