using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>block_mask(targets, target_scale, context_scale, aspect)</c>: I-JEPA's multi-block sampler, vectorised over the batch.
/// <list type="number">
/// <item>Per batch, one target block size and one context block size: a scale <c>s</c> uniform in its range gives
/// <c>k = floor(N s)</c> tokens, an aspect <c>a</c> (height / width) uniform in its range (1 for the context) gives
/// <c>h = round(sqrt(k a))</c>, <c>w = round(sqrt(k / a))</c>, clipped to [1, H] and [1, W].</item>
/// <item>Per sample, <c>targets</c> target blocks at uniformly random positions (they may overlap each other), and one
/// context block at a uniformly random position from which every target token is removed.</item>
/// <item>A sample whose context keeps fewer than <c>minKeep</c> tokens redraws its context position, up to 20 times; if
/// none works its context becomes every token outside the target blocks, and if even that is too small the last target
/// blocks are allowed to overlap the context (I-JEPA's "decreasing acceptable regions").</item>
/// <item>All samples of a batch are trimmed to the same counts: the targets are the concatenated blocks (<c>Nt =
/// targets h w</c>, in block order, row-major inside a block); the context keeps its first <c>Nc</c> tokens in row-major
/// order, <c>Nc</c> the smallest context of the batch (I-JEPA's <c>cm[:min_keep]</c>).</item>
/// </list>
/// Differences from I-JEPA's <c>MaskCollator</c>: scale and aspect are two independent draws (I-JEPA reuses one);
/// blocks can sit at every position, including the last row and column, and can span the whole grid (I-JEPA's
/// <c>randint(0, H - h)</c> and <c>h &lt; H</c> exclude both); a context with exactly <c>minKeep</c> tokens is accepted.
/// </summary>
public sealed class MultiBlockMask : ITokenMask
{
    private const int Tries = 20;

    /// <summary>Creates the sampler; scales in (0, 1], aspects positive, <c>1 &lt;= minKeep &lt;= H W</c>.</summary>
    public MultiBlockMask((int H, int W) grid, int targets = 4, (double Min, double Max)? targetScale = null,
                          (double Min, double Max)? contextScale = null, (double Min, double Max)? aspect = null, int minKeep = 4)
    {
        if (grid.H < 1 || grid.W < 1) throw new ArgumentOutOfRangeException(nameof(grid), grid, "block_mask needs a token grid of at least 1x1.");
        if (targets < 1) throw new ArgumentOutOfRangeException(nameof(targets), targets, "block_mask needs at least one target block.");
        Grid = grid;
        Targets = targets;
        TargetScale = CheckRange(targetScale ?? (0.15, 0.2), nameof(targetScale), upper: 1);
        ContextScale = CheckRange(contextScale ?? (0.85, 1.0), nameof(contextScale), upper: 1);
        Aspect = CheckRange(aspect ?? (0.75, 1.5), nameof(aspect), upper: double.PositiveInfinity);
        if (minKeep < 1 || minKeep > grid.H * grid.W)
            throw new ArgumentOutOfRangeException(nameof(minKeep), minKeep, $"min_keep must be between 1 and the {grid.H * grid.W} tokens of the grid.");
        MinKeep = minKeep;
    }

    /// <inheritdoc/>
    public (int H, int W) Grid { get; }

    /// <summary>The number of target blocks per sample.</summary>
    public int Targets { get; }

    /// <summary>Range of a target block's area as a fraction of the grid.</summary>
    public (double Min, double Max) TargetScale { get; }

    /// <summary>Range of the context block's area as a fraction of the grid.</summary>
    public (double Min, double Max) ContextScale { get; }

    /// <summary>Range of a target block's height / width.</summary>
    public (double Min, double Max) Aspect { get; }

    /// <summary>The smallest number of context tokens a sample keeps.</summary>
    public int MinKeep { get; }

    private static (double Min, double Max) CheckRange((double Min, double Max) r, string name, double upper) =>
        r.Min > 0 && r.Min <= r.Max && r.Max <= upper ? r : throw new ArgumentOutOfRangeException(name, r, $"{name} needs 0 < min <= max <= {upper}.");

    /// <summary>The block size (h, w) for a scale and an aspect ratio (height / width).</summary>
    public (int H, int W) BlockSize(double scale, double aspect)
    {
        var k = Math.Floor(Grid.H * Grid.W * scale);
        var h = (int)Math.Round(Math.Sqrt(k * aspect));
        var w = (int)Math.Round(Math.Sqrt(k / aspect));
        return (Math.Clamp(h, 1, Grid.H), Math.Clamp(w, 1, Grid.W));
    }

    /// <inheritdoc/>
    public TokenMasks Sample(long batch, Generator g)
    {
        int gh = Grid.H, gw = Grid.W, n = gh * gw;
        var device = g.device;                                                         // masks live where the generator draws
        // 1. One target block size and one context block size for the whole batch.
        var u = Draw.Uniform([3], g).cpu().data<float>().ToArray();
        var (th, tw) = BlockSize(Lerp(TargetScale, u[0]), Lerp(Aspect, u[1]));
        var (ch, cw) = BlockSize(Lerp(ContextScale, u[2]), 1.0);

        // 2. Target blocks at random positions: indices (B, T, th*tw), concatenated to (B, Nt).
        var top = Draw.Integers(gh - th + 1, [batch, Targets], g);                     // (B, T)
        var left = Draw.Integers(gw - tw + 1, [batch, Targets], g);                    // (B, T)
        var rows = top.unsqueeze(-1) + arange(th, dtype: ScalarType.Int64, device: device);            // (B, T, th)
        var cols = left.unsqueeze(-1) + arange(tw, dtype: ScalarType.Int64, device: device);           // (B, T, tw)
        var target = (rows.unsqueeze(-1) * gw + cols.unsqueeze(-2)).reshape(batch, Targets, th * tw);   // (B, T, th*tw)
        var inTarget = zeros(batch, Targets, n, dtype: ScalarType.Bool, device: device).scatter(2, target, ones(target.shape, dtype: ScalarType.Bool, device: device));   // (B, T, N)
        var anyTarget = inTarget.any(1);                                              // (B, N)

        // 3. Context block minus the targets; redraw the position of samples left with fewer than MinKeep tokens.
        var context = Block(Draw.Integers(gh - ch + 1, [batch], g), Draw.Integers(gw - cw + 1, [batch], g), ch, cw).logical_and(anyTarget.logical_not());   // (B, N)
        for (var attempt = 0; attempt < Tries; attempt++)
        {
            var small = context.sum([1]).lt(MinKeep);                                 // (B)
            if (!small.any().item<bool>()) break;
            var redrawn = Block(Draw.Integers(gh - ch + 1, [batch], g), Draw.Integers(gw - cw + 1, [batch], g), ch, cw).logical_and(anyTarget.logical_not());
            context = where(small.unsqueeze(1), redrawn, context);
        }

        // 4. Fallback: every token outside the first k target blocks, with the largest k that leaves MinKeep tokens.
        var stillSmall = context.sum([1]).lt(MinKeep);
        if (stillSmall.any().item<bool>())
        {
            var covered = cat([zeros(batch, 1, n, dtype: ScalarType.Bool, device: device), inTarget.cumsum(1).gt(0)], 1);   // (B, T+1, N): union of the first k blocks
            var free = covered.logical_not();                                          // (B, T+1, N)
            var enough = free.sum([2]).ge(MinKeep);                                    // (B, T+1); k = 0 always holds
            var k = (enough.to(ScalarType.Int64) * arange(Targets + 1, dtype: ScalarType.Int64, device: device)).argmax(1);   // (B) largest valid k
            var fallback = free.gather(1, k.view(batch, 1, 1).expand(batch, 1, n)).squeeze(1);             // (B, N)
            context = where(stillSmall.unsqueeze(1), fallback, context);
        }

        // 5. Trim every sample to the smallest context of the batch: its first Nc tokens in row-major order.
        var nc = context.sum([1]).min().item<long>();
        var contextIdx = context.logical_not().to(ScalarType.Int32).sort(1, stable: true).Indices[.., ..(int)nc];   // (B, Nc), ascending
        return new TokenMasks(contextIdx, target.reshape(batch, Targets * th * tw));
    }

    /// <summary>Blocks of size (h, w) with top-left corners (top, left), as masks (B, N).</summary>
    private Tensor Block(Tensor top, Tensor left, int h, int w)
    {
        var r = arange(Grid.H, dtype: ScalarType.Int64, device: top.device);
        var c = arange(Grid.W, dtype: ScalarType.Int64, device: top.device);
        var inRows = r.ge(top.unsqueeze(1)).logical_and(r.lt(top.unsqueeze(1) + h));         // (B, H)
        var inCols = c.ge(left.unsqueeze(1)).logical_and(c.lt(left.unsqueeze(1) + w));       // (B, W)
        return inRows.unsqueeze(2).logical_and(inCols.unsqueeze(1)).reshape(top.shape[0], Grid.H * Grid.W);
    }

    private static double Lerp((double Min, double Max) range, float u) => range.Min + u * (range.Max - range.Min);

    /// <inheritdoc/>
    public override string ToString() =>
        $"block_mask(targets: {Targets}, target_scale: {TargetScale.Min}..{TargetScale.Max}, context_scale: {ContextScale.Min}..{ContextScale.Max}, aspect: {Aspect.Min}..{Aspect.Max}, min_keep: {MinKeep})";
}
