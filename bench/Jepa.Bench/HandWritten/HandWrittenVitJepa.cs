using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Jepa.Bench.HandWritten;

/// <summary>
/// The token JEPA of Models/vit.jepa (I-JEPA on 1x8x8 images) written by hand in plain TorchSharp (no Jepa.Runtime):
/// a ViT (2x2 patches, width 64, depth 4, 4 heads, fixed sin-cos positions, pre-norm blocks), an EMA target, a
/// transformer predictor (width 32, depth 2, 2 heads) with mask tokens, multi-block masks, smooth L1 to the layer-normed
/// target tokens, AdamW over two groups and the EMA update. The mask sampler is the same algorithm as the runtime's
/// (the same draws from a generator with the same seed), so both sides train on the same token counts at every step.
/// </summary>
public sealed class HandWrittenVitJepa : IStepBenchmark
{
    private const int Dim = 64;
    private readonly Vit context;
    private readonly Vit target;
    private readonly Predictor predictor;
    private readonly Plain update;
    private readonly Tensor x;
    private readonly Generator generator;
    private readonly BlockMasks masks = new(4, 4);

    /// <summary>Builds the model for <paramref name="x"/> (B, 1, 8, 8), which it uses as the batch of every step.</summary>
    public HandWrittenVitJepa(Tensor x, long seed)
    {
        random.manual_seed(seed);
        context = new Vit(Dim, 4, 4);
        target = new Vit(Dim, 4, 4);
        predictor = new Predictor(Dim, 32, 2, 2);
        target.load_state_dict(context.state_dict());
        foreach (var p in target.parameters()) p.requires_grad = false;
        update = new Plain(context, predictor, target);
        this.x = x;
        generator = new Generator((ulong)seed);
    }

    public string Name => "vit";

    /// <summary>Sum of the context and target token counts of the steps so far (to compare with the other implementations).</summary>
    public (long Context, long Target, long Steps) Tokens { get; private set; }

    public float Step()
    {
        using var scope = NewDisposeScope();
        var (ctxIdx, tgtIdx) = masks.Sample(x.shape[0], generator);
        Tokens = (Tokens.Context + ctxIdx.shape[1], Tokens.Target + tgtIdx.shape[1], Tokens.Steps + 1);
        Tensor t;
        using (no_grad())
        {
            t = Gather(functional.layer_norm(target.forward(x, null), [Dim]), tgtIdx);
        }
        var z = context.forward(x, ctxIdx);
        var loss = functional.smooth_l1_loss(predictor.forward(z, ctxIdx, tgtIdx), t);
        update.Update(loss);
        return loss.item<float>();
    }

    /// <summary>Masks of this sampler for a batch of <paramref name="batch"/> from <paramref name="g"/>: context (B, Nc) and target (B, Nt) token indices.</summary>
    public static (Tensor Context, Tensor Target) SampleMasks(long batch, Generator g) => new BlockMasks(4, 4).Sample(batch, g);

    private static Tensor Gather(Tensor tokens, Tensor idx) =>
        tokens.gather(1, idx.unsqueeze(-1).expand(idx.shape[0], idx.shape[1], tokens.shape[2]));

    /// <summary>Fixed 2-D sin-cos positions (MAE / I-JEPA) of a square grid: (side^2, dim).</summary>
    private static Tensor SinCos(int dim, int side)
    {
        var q = dim / 4;
        var v = new float[side * side * dim];
        for (var r = 0; r < side; r++)
        for (var c = 0; c < side; c++)
        for (var i = 0; i < q; i++)
        {
            var omega = 1.0 / Math.Pow(10000.0, (double)i / q);
            var o = (r * side + c) * dim;
            v[o + i] = (float)Math.Sin(c * omega);
            v[o + q + i] = (float)Math.Cos(c * omega);
            v[o + 2 * q + i] = (float)Math.Sin(r * omega);
            v[o + 3 * q + i] = (float)Math.Cos(r * omega);
        }
        return tensor(v, [side * side, dim]);
    }

    private sealed class Block : Module<Tensor, Tensor>
    {
        private readonly LayerNorm norm1, norm2;
        private readonly Linear qkv, proj, fc1, fc2;
        private readonly int heads;

        public Block(int dim, int heads) : base("block")
        {
            this.heads = heads;
            norm1 = LayerNorm(dim);
            qkv = Linear(dim, 3 * dim);
            proj = Linear(dim, dim);
            norm2 = LayerNorm(dim);
            fc1 = Linear(dim, 4 * dim);
            fc2 = Linear(4 * dim, dim);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            long b = x.shape[0], n = x.shape[1], d = x.shape[2];
            var h = qkv.forward(norm1.forward(x)).reshape(b, n, 3, heads, d / heads).permute(2, 0, 3, 1, 4);
            var a = functional.scaled_dot_product_attention(h[0], h[1], h[2]).transpose(1, 2).reshape(b, n, d);
            x = x + proj.forward(a);
            return x + fc2.forward(functional.gelu(fc1.forward(norm2.forward(x))));
        }
    }

    private sealed class Vit : Module<Tensor, Tensor?, Tensor>
    {
        private readonly Conv2d embed;
        private readonly ModuleList<Block> blocks;
        private readonly LayerNorm norm;
        private readonly Tensor pos;

        public Vit(int dim, int depth, int heads) : base("vit")
        {
            embed = Conv2d(1, dim, 2, stride: 2);
            blocks = ModuleList(Enumerable.Range(0, depth).Select(_ => new Block(dim, heads)).ToArray());
            norm = LayerNorm(dim);
            pos = SinCos(dim, 4);
            RegisterComponents();
        }

        /// <summary>(B, 1, 8, 8) -> tokens (B, 16, D), or the tokens at <paramref name="keep"/> (B, K) only.</summary>
        public override Tensor forward(Tensor x, Tensor? keep)
        {
            var t = embed.forward(x).flatten(2).transpose(1, 2) + pos;
            if (keep is not null) t = Gather(t, keep);
            foreach (var block in blocks) t = block.forward(t);
            return norm.forward(t);
        }
    }

    private sealed class Predictor : Module<Tensor, Tensor, Tensor, Tensor>
    {
        private readonly Linear embed, proj;
        private readonly Parameter maskToken;
        private readonly ModuleList<Block> blocks;
        private readonly LayerNorm norm;
        private readonly Tensor pos;

        public Predictor(int encoderDim, int dim, int depth, int heads) : base("predictor")
        {
            embed = Linear(encoderDim, dim);
            maskToken = Parameter(zeros(1, 1, dim));
            blocks = ModuleList(Enumerable.Range(0, depth).Select(_ => new Block(dim, heads)).ToArray());
            norm = LayerNorm(dim);
            proj = Linear(dim, encoderDim);
            pos = SinCos(dim, 4);
            RegisterComponents();
        }

        /// <summary>Context tokens (B, Nc, D) at ctx (B, Nc) -> predictions (B, Nt, D) at tgt (B, Nt).</summary>
        public override Tensor forward(Tensor z, Tensor ctx, Tensor tgt)
        {
            long b = z.shape[0], nt = tgt.shape[1];
            var p = pos.shape[1];
            var h = embed.forward(z) + pos.index_select(0, ctx.reshape(-1)).reshape(b, ctx.shape[1], p);
            var m = maskToken.expand(b, nt, -1) + pos.index_select(0, tgt.reshape(-1)).reshape(b, nt, p);
            var y = cat([h, m], 1);
            foreach (var block in blocks) y = block.forward(y);
            return proj.forward(norm.forward(y)[.., ^(int)nt..]);
        }
    }

    /// <summary>
    /// I-JEPA's multi-block masks on an H x W grid (4 targets of scale 0.15-0.2 and aspect 0.75-1.5, one context block
    /// of scale 0.85-1.0 without the targets, at least 4 context tokens), vectorised over the batch.
    /// </summary>
    private sealed class BlockMasks(int gh, int gw)
    {
        private const int Targets = 4, MinKeep = 4;

        public (Tensor Context, Tensor Target) Sample(long b, Generator g)
        {
            var n = gh * gw;
            var u = rand([3], generator: g).data<float>().ToArray();
            var (th, tw) = Size(0.15 + u[0] * 0.05, 0.75 + u[1] * 0.75);
            var (ch, cw) = Size(0.85 + u[2] * 0.15, 1.0);
            var top = randint(0, gh - th + 1, [b, Targets], dtype: ScalarType.Int64, generator: g);
            var left = randint(0, gw - tw + 1, [b, Targets], dtype: ScalarType.Int64, generator: g);
            var rows = top.unsqueeze(-1) + arange(th, dtype: ScalarType.Int64);
            var cols = left.unsqueeze(-1) + arange(tw, dtype: ScalarType.Int64);
            var target = (rows.unsqueeze(-1) * gw + cols.unsqueeze(-2)).reshape(b, Targets, th * tw);
            var inTarget = zeros(b, Targets, n, dtype: ScalarType.Bool).scatter(2, target, ones(target.shape, dtype: ScalarType.Bool));
            var free = inTarget.any(1).logical_not();
            var context = Block(b, ch, cw, g).logical_and(free);
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var small = context.sum([1]).lt(MinKeep);
                if (!small.any().item<bool>()) break;
                context = where(small.unsqueeze(1), Block(b, ch, cw, g).logical_and(free), context);
            }
            var stillSmall = context.sum([1]).lt(MinKeep);
            if (stillSmall.any().item<bool>())
            {
                var open = cat([zeros(b, 1, n, dtype: ScalarType.Bool), inTarget.cumsum(1).gt(0)], 1).logical_not();
                var k = (open.sum([2]).ge(MinKeep).to(ScalarType.Int64) * arange(Targets + 1, dtype: ScalarType.Int64)).argmax(1);
                context = where(stillSmall.unsqueeze(1), open.gather(1, k.view(b, 1, 1).expand(b, 1, n)).squeeze(1), context);
            }
            var nc = context.sum([1]).min().item<long>();
            return (context.logical_not().to(ScalarType.Int32).sort(1, stable: true).Indices[.., ..(int)nc], target.reshape(b, Targets * th * tw));
        }

        private (int H, int W) Size(double scale, double aspect)
        {
            var k = Math.Floor(gh * gw * scale);
            return (Math.Clamp((int)Math.Round(Math.Sqrt(k * aspect)), 1, gh), Math.Clamp((int)Math.Round(Math.Sqrt(k / aspect)), 1, gw));
        }

        private Tensor Block(long b, int h, int w, Generator g)
        {
            var top = randint(0, gh - h + 1, [b], dtype: ScalarType.Int64, generator: g).unsqueeze(1);
            var left = randint(0, gw - w + 1, [b], dtype: ScalarType.Int64, generator: g).unsqueeze(1);
            var r = arange(gh, dtype: ScalarType.Int64);
            var c = arange(gw, dtype: ScalarType.Int64);
            return r.ge(top).logical_and(r.lt(top + h)).unsqueeze(2).logical_and(c.ge(left).logical_and(c.lt(left + w)).unsqueeze(1)).reshape(b, gh * gw);
        }
    }

    public void Dispose()
    {
        update.Dispose();
        context.Dispose();
        target.Dispose();
        predictor.Dispose();
        generator.Dispose();
    }
}
