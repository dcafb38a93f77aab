using Jepa.Runtime.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Models;

public class ModelTests
{
    private static long Count(nn.Module module) => module.parameters().Sum(p => p.numel());

    // The formulas of docs/models.md, written out independently of the modules.
    private static long MlpFormula(long d, int[] hidden, int o, Norm norm)
    {
        long total = 0, prev = d;
        foreach (var h in hidden)
        {
            total += prev * h + h + (norm == Norm.None ? 0 : 2 * h);
            prev = h;
        }
        return total + prev * o + o;
    }

    private static long ConvFormula(long c, int[] channels, int k, int o, Norm norm)
    {
        long total = 0, prev = c;
        foreach (var ci in channels)
        {
            total += prev * ci * k * k + ci + (norm == Norm.None ? 0 : 2 * ci);
            prev = ci;
        }
        return total + prev * o + o;
    }

    private static long VitFormula(long c, int p, long d, int depth) => c * p * p * d + d + depth * (12 * d * d + 13 * d) + 2 * d;

    private static long PredictorFormula(long d, long dp, int depth) => d * dp + dp + dp + depth * (12 * dp * dp + 13 * dp) + 2 * dp + dp * d + d;

    [Theory]
    [InlineData(new long[] { 64 }, new int[] { 256, 256 }, 128, Norm.None)]
    [InlineData(new long[] { 1, 8, 8 }, new int[] { 256, 256 }, 128, Norm.Layer)]
    [InlineData(new long[] { 64 }, new int[] { 32 }, 16, Norm.Batch)]
    [InlineData(new long[] { 10 }, new int[0], 3, Norm.None)]
    public void Mlp_parameter_count_matches_the_documented_formula(long[] shape, int[] hidden, int @out, Norm norm)
    {
        using var mlp = new MlpEncoder(shape, hidden, @out, norm, Activation.Gelu);
        Assert.Equal(MlpFormula(shape.Aggregate(1L, (a, b) => a * b), hidden, @out, norm), Count(mlp));
    }

    [Theory]
    [InlineData(3, new int[] { 32, 64 }, 128, Norm.None)]
    [InlineData(4, new int[] { 8 }, 10, Norm.None)]
    [InlineData(1, new int[] { 4, 4, 4 }, 5, Norm.None)]
    [InlineData(3, new int[] { 32, 64 }, 128, Norm.Batch)]
    [InlineData(3, new int[] { 16, 8 }, 10, Norm.Group)]
    [InlineData(5, new int[] { 4, 4, 4 }, 5, Norm.Layer)]
    public void Conv_parameter_count_matches_the_documented_formula(int kernel, int[] channels, int @out, Norm norm)
    {
        using var conv = new ConvEncoder([3, 16, 16], channels, kernel, Pool.Mean, @out, norm, groups: 4);
        Assert.Equal(ConvFormula(3, channels, kernel, @out, norm), Count(conv));
    }

    [Theory]
    [InlineData(1, 8, 8, 2, 64, 4, 4)]
    [InlineData(3, 12, 8, 4, 32, 2, 2)]
    [InlineData(1, 8, 8, 2, 48, 0, 3)]
    public void Vit_parameter_count_matches_the_documented_formula(int c, int h, int w, int patch, int dim, int depth, int heads)
    {
        using var vit = new VitEncoder([c, h, w], patch, dim, depth, heads);
        Assert.Equal(VitFormula(c, patch, dim, depth), Count(vit));
        // The positional embedding is a buffer, not a parameter.
        Assert.Equal("posEmbed", Assert.Single(vit.named_buffers()).name);
    }

    [Theory]
    [InlineData(64, 32, 2, 2)]
    [InlineData(48, 24, 1, 3)]
    public void Predictor_parameter_count_matches_the_documented_formula(int encoderDim, int dim, int depth, int heads)
    {
        using var predictor = new TransformerPredictor(encoderDim, dim, depth, heads, (4, 4));
        Assert.Equal(PredictorFormula(encoderDim, dim, depth), Count(predictor));
    }

    [Fact]
    public void Contract_sample_one_modules_have_the_counts_of_the_formula()
    {
        // mlp(hidden: [256, 256], out: 128) on 64 inputs and mlp(hidden: [256], out: 128) on 128:
        // 64*256+256 + 256*256+256 + 256*128+128 = 115,328 and 128*256+256 + 256*128+128 = 65,920.
        using var context = new MlpEncoder([64], [256, 256], 128, Norm.None, Activation.Gelu);
        using var predictor = new MlpEncoder([128], [256], 128, Norm.None, Activation.Gelu);
        Assert.Equal(115_328, Count(context));
        Assert.Equal(65_920, Count(predictor));
    }

    [Fact]
    public void Transformer_weights_are_truncated_normal_with_the_init_std()
    {
        using var vit = new VitEncoder([1, 8, 8], 2, 64, 1, 4);
        var qkv = vit.named_parameters().Single(p => p.name == "blocks.0.qkv.weight").parameter;
        // N(0, 0.02^2) cut at +-2 std has std 0.02 * 0.8796.
        Assert.InRange(qkv.std().item<float>(), 0.02 * 0.8796 * 0.95, 0.02 * 0.8796 * 1.05);
        Assert.True(qkv.abs().max().item<float>() <= 0.04f);
        var bias = vit.named_parameters().Single(p => p.name == "blocks.0.qkv.bias").parameter;
        Assert.Equal(0f, bias.abs().sum().item<float>());
        // The residual projections of layer 1 are scaled by 1/sqrt(2).
        var fc2 = vit.named_parameters().Single(p => p.name == "blocks.0.fc2.weight").parameter;
        Assert.InRange(fc2.std().item<float>(), 0.02 * 0.8796 / Math.Sqrt(2) * 0.95, 0.02 * 0.8796 / Math.Sqrt(2) * 1.05);
    }

    [Fact]
    public void Mlp_flattens_images_and_applies_per_token()
    {
        using var mlp = new MlpEncoder([1, 8, 8], [16], 4, Norm.Batch, Activation.Relu);
        using var images = randn(5, 1, 8, 8);
        Assert.Equal(new long[] { 5, 4 }, mlp.forward(images).shape);
        Assert.Equal(new long[] { 5, 4 }, mlp.forward(images.reshape(5, 64)).shape);

        using var perToken = new MlpEncoder([6], [8], 6, Norm.Layer, Activation.Silu);
        using var tokens = randn(3, 7, 6);
        using var outTokens = perToken.forward(tokens);
        Assert.Equal(new long[] { 3, 7, 6 }, outTokens.shape);
        // Per token means: token (1, 2) alone gives the same output.
        using var single = perToken.forward(tokens[1, 2].unsqueeze(0));
        Assert.True(single[0].allclose(outTokens[1, 2], rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Conv_output_shape_and_max_pool()
    {
        using var conv = new ConvEncoder([1, 8, 8], [4, 8], 3, Pool.Max, 10);
        using var x = randn(2, 1, 8, 8);
        Assert.Equal(new long[] { 2, 10 }, conv.forward(x).shape);
        Assert.Throws<ArgumentException>(() => new ConvEncoder([1, 8, 8], [4, 4, 4, 4], 3, Pool.Mean, 10));
    }

    [Fact]
    public void Vit_tokens_pool_and_keep_agree()
    {
        using var vit = new VitEncoder([1, 8, 8], 2, 16, 2, 2);
        using var pooled = new VitEncoder([1, 8, 8], 2, 16, 2, 2, Pool.Mean);
        pooled.load_state_dict(vit.state_dict());
        vit.eval(); pooled.eval();
        using var x = randn(3, 1, 8, 8);
        using var tokens = vit.forward(x);
        Assert.Equal(new long[] { 3, 16, 16 }, tokens.shape);
        Assert.True(pooled.forward(x).allclose(tokens.mean([1]), rtol: 1e-5, atol: 1e-6));

        // Keeping every token in order is the full forward; keeping a subset gives (B, K, D).
        using var all = arange(16, dtype: ScalarType.Int64).repeat(3, 1);
        Assert.True(vit.forward(x, all).allclose(tokens, rtol: 1e-5, atol: 1e-5));
        using var keep = tensor(new long[] { 0, 5, 9, 1, 2, 3, 15, 14, 13 }, [3, 3]);
        Assert.Equal(new long[] { 3, 3, 16 }, vit.forward(x, keep).shape);
    }

    [Fact]
    public void Vit_keep_applies_the_mask_before_the_blocks()
    {
        // With no blocks the kept tokens are exactly the gathered full tokens after the final norm.
        using var vit = new VitEncoder([1, 4, 4], 2, 8, 0, 2);
        using var x = randn(2, 1, 4, 4);
        using var keep = tensor(new long[] { 3, 0, 1, 2 }, [2, 2]);
        Assert.True(vit.forward(x, keep).allclose(Tokens.Gather(vit.forward(x), keep), rtol: 1e-5, atol: 1e-6));
        // With blocks the kept tokens attend only to each other: changing the dropped patches leaves them as they
        // were, while the full forward (every token sees every other) changes. The invariance holds for any
        // initialization; a wider one than I-JEPA's 0.02 makes the change in the full forward large (the smallest of
        // 2,000 random draws was 0.22), so that side of the contrast cannot pass or fail by accident.
        using var deep = new VitEncoder([1, 4, 4], 2, 8, 1, 2, initStd: 0.5);
        using var moved = x.clone();
        // 2x2 patches on a 2x2 grid; patch p covers rows 2*(p/2).., columns 2*(p%2)..
        foreach (var (b, p) in new[] { (0, 1), (0, 2), (1, 0), (1, 3) })
        {
            using var patch = moved[b, 0, TensorIndex.Slice(2 * (p / 2), 2 * (p / 2) + 2), TensorIndex.Slice(2 * (p % 2), 2 * (p % 2) + 2)];
            patch.add_(10);
        }
        Assert.True(deep.forward(moved, keep).allclose(deep.forward(x, keep), rtol: 1e-5, atol: 1e-6));
        using var fullBefore = Tokens.Gather(deep.forward(x), keep);
        using var fullAfter = Tokens.Gather(deep.forward(moved), keep);
        Assert.True((fullAfter - fullBefore).abs().max().item<float>() > 1e-2f);
    }

    [Fact]
    public void Predictor_predicts_at_target_positions()
    {
        using var predictor = new TransformerPredictor(16, 8, 1, 2, (4, 4));
        using var context = randn(2, 5, 16);
        using var contextIdx = tensor(new long[] { 0, 1, 2, 3, 4, 11, 12, 13, 14, 15 }, [2, 5]);
        using var targetIdx = tensor(new long[] { 5, 6, 7, 8, 9, 10 }, [2, 3]);
        using var predicted = predictor.forward(context, contextIdx, targetIdx);
        Assert.Equal(new long[] { 2, 3, 16 }, predicted.shape);
        // Swapping two target positions swaps the predictions (the mask tokens differ only by their position).
        using var swapped = predictor.forward(context, contextIdx, targetIdx.flip(1));
        Assert.True(swapped.flip(1).allclose(predicted, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Gradients_reach_every_parameter()
    {
        using var vit = new VitEncoder([1, 8, 8], 2, 16, 1, 2);
        using var predictor = new TransformerPredictor(16, 8, 1, 2, vit.Grid);
        using var x = randn(2, 1, 8, 8);
        using var ctxIdx = tensor(new long[] { 0, 1, 2, 3, 4, 5 }, [2, 3]);
        using var tgtIdx = tensor(new long[] { 10, 11, 12, 13 }, [2, 2]);
        var loss = predictor.forward(vit.forward(x, ctxIdx), ctxIdx, tgtIdx).square().mean();
        loss.backward();
        Assert.All(vit.parameters().Concat(predictor.parameters()), p => Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0));
    }

    [Fact]
    public void Positional_embedding_follows_the_sin_cos_formula()
    {
        using var table = PositionalEmbedding.SinCos2D(8, 3, 5);
        Assert.Equal(new long[] { 15, 8 }, table.shape);
        var values = table.data<float>().ToArray();
        for (var r = 0; r < 3; r++)
        for (var c = 0; c < 5; c++)
        for (var i = 0; i < 2; i++)
        {
            var omega = Math.Pow(10000, -i / 2.0);
            var row = (r * 5 + c) * 8;
            Assert.Equal(Math.Sin(c * omega), values[row + i], 5);
            Assert.Equal(Math.Cos(c * omega), values[row + 2 + i], 5);
            Assert.Equal(Math.Sin(r * omega), values[row + 4 + i], 5);
            Assert.Equal(Math.Cos(r * omega), values[row + 6 + i], 5);
        }
        // A width that is not a multiple of 4 leaves the trailing channels zero.
        using var odd = PositionalEmbedding.SinCos2D(6, 2, 2);
        Assert.Equal(0f, odd[.., 4..].abs().sum().item<float>());
    }

    [Fact]
    public void Gather_mean_pool_and_identity()
    {
        using var tokens = arange(2 * 4 * 3, dtype: ScalarType.Float32).reshape(2, 4, 3);
        using var idx = tensor(new long[] { 3, 0, 1, 1 }, [2, 2]);
        using var gathered = Tokens.Gather(tokens, idx);
        Assert.Equal(new float[] { 9, 10, 11, 0, 1, 2, 15, 16, 17, 15, 16, 17 }, gathered.data<float>().ToArray());
        Assert.Equal(new float[] { 4.5f, 5.5f, 6.5f, 16.5f, 17.5f, 18.5f }, Tokens.MeanPool(tokens).data<float>().ToArray());
        using var identity = new Identity();
        Assert.Empty(identity.parameters());
        Assert.True(identity.forward(tokens).allclose(tokens, rtol: 0, atol: 0));
    }
}
