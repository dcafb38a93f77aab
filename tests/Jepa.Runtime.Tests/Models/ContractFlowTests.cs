using Jepa.Runtime.Data;
using Jepa.Runtime.Losses;
using Jepa.Runtime.Masks;
using Jepa.Runtime.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Models;

/// <summary>
/// The blocks called the way generated-code-contract.md's samples call them (constructors with the same arguments),
/// one training step's data flow on digits, without the trainer.
/// </summary>
public class ContractFlowTests
{
    private static ReadOnlySpan<long> VectorShape => [64];
    private static ReadOnlySpan<long> ImageShape => [1, 8, 8];

    [Fact]
    public void Sample_one_vector_jepa_step()
    {
        using var digits = Datasets.Digits();
        var image = digits.Batches(256, seed: 1, epoch: 0).First();                                  // (256, 64)
        var generator = new Generator(1, torch.CPU);
        using var context = new MlpEncoder(VectorShape, [256, 256], 128, Norm.None, Activation.Gelu);
        using var target = new MlpEncoder(VectorShape, [256, 256], 128, Norm.None, Activation.Gelu);
        using var predictor = new MlpEncoder([128], [256], 128, Norm.None, Activation.Gelu);
        var noisy = Corruptions.Compose(new FeatureDropout(0.3), new GaussianNoise(0.1));

        Tensor t;
        using (no_grad()) t = TargetNorm.Layer(target.forward(image));                             // (256, 128)
        var predicted = predictor.forward(context.forward(noisy.Apply(image, generator)));          // (256, 128)
        var loss = Loss.SmoothL1(predicted, t, beta: 1.0);
        loss.backward();
        Assert.True(float.IsFinite(loss.item<float>()));
        Assert.All(context.parameters(), p => Assert.NotNull(p.grad));
        Assert.All(target.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void Sample_two_token_jepa_step()
    {
        using var digits = Datasets.Digits();
        using var images = digits.Reshape(ImageShape);
        var image = images.Batches(32, seed: 7, epoch: 0).First();                                  // (32, 1, 8, 8)
        var generator = new Generator(7, torch.CPU);
        using var context = new VitEncoder(ImageShape, 2, 64, 4, 4, pool: null);
        using var target = new VitEncoder(ImageShape, 2, 64, 4, 4, pool: null);
        using var predictor = new TransformerPredictor(encoderDim: 64, dim: 32, depth: 2, heads: 2, grid: (4, 4));
        var masked = new MultiBlockMask(grid: (4, 4), 4, targetScale: (0.15, 0.2), contextScale: (0.85, 1.0), aspect: (0.75, 1.5), minKeep: 4);

        var masks = masked.Sample(image.shape[0], generator);
        Tensor t;
        using (no_grad()) t = Tokens.Gather(TargetNorm.Layer(target.forward(image)), masks.Target);   // (B, Nt, 64)
        var c = context.forward(image, masks.Context);                                               // (B, Nc, 64)
        var predicted = predictor.forward(c, masks.Context, masks.Target);                           // (B, Nt, 64)
        Assert.Equal(t.shape, predicted.shape);
        var loss = Loss.SmoothL1(predicted, t, beta: 1.0) + 0.1 * Regularizers.SigReg(c, 64, generator);
        loss.backward();
        Assert.True(float.IsFinite(loss.item<float>()));
        Assert.All(predictor.parameters(), p => Assert.NotNull(p.grad));
        // Encode: mean over the target encoder's tokens.
        Assert.Equal(new long[] { 32, 64 }, Tokens.MeanPool(target.forward(image)).shape);
    }
}
