using System.Text.Json;
using Jepa.Runtime.Models;
using Jepa.Runtime.Tests.Masks;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Models;

/// <summary>
/// The conv encoder's norms against PyTorch 1.13 (TestData/torchvision_reference.py builds the same encoder with the same
/// module names, <c>nn.BatchNorm2d</c> / <c>nn.GroupNorm</c>, affine weights and running statistics set away from 1 and 0):
/// the state dictionary's names, the training-mode output, the running statistics after it, the gradient of the first
/// convolution, and the evaluation-mode output, each within 1e-5.
/// Serial with the trainer tests: two tests seed torch's global generator and compare initialisations.
/// </summary>
[Collection(Training.TrainerCollection.Name)]
public class ConvNormTests(ITestOutputHelper output)
{
    public static TheoryData<string> Norms() => new("none", "batch", "group", "layer");

    private static JsonElement Reference(string norm) =>
        TorchvisionReference.Root.GetProperty("conv_norms").EnumerateArray().Single(c => c.GetProperty("norm").GetString() == norm);

    private static Norm Parse(string norm) => Enum.Parse<Norm>(norm, ignoreCase: true);

    private static ConvEncoder Build(JsonElement r) =>
        new([3, 12, 12], r.GetProperty("channels").EnumerateArray().Select(c => c.GetInt32()).ToArray(), 3, Pool.Mean, 5,
            Parse(r.GetProperty("norm").GetString()!), r.GetProperty("groups").GetInt32());

    private static void Load(nn.Module module, JsonElement state)
    {
        var ours = module.state_dict();
        Assert.Equal(state.EnumerateObject().Select(p => p.Name).Order(), ours.Keys.Order());
        using var _ = no_grad();
        foreach (var p in state.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Number) ours[p.Name].fill_(p.Value.GetInt64());
            else ours[p.Name].copy_(TorchvisionReference.Tensor(p.Value));
        }
    }

    private double Difference(string what, Tensor ours, Tensor expected)
    {
        Assert.Equal(expected.shape, ours.shape);
        var d = (ours - expected).abs().max().item<float>();
        output.WriteLine($"{what}: largest difference from PyTorch {d:G3}");
        return d;
    }

    [Theory]
    [MemberData(nameof(Norms))]
    public void Conv_encoder_with_each_norm_matches_pytorch(string norm)
    {
        var r = Reference(norm);
        using var conv = Build(r);
        Load(conv, r.GetProperty("state"));
        using var x = TorchvisionReference.Tensor(r.GetProperty("input"));

        conv.train();
        using var y = conv.forward(x);
        Assert.True(Difference($"{norm} training output", y, TorchvisionReference.Tensor(r.GetProperty("train_output"))) < 1e-5);
        y.pow(2).sum().backward();
        var grad = conv.named_parameters().Single(p => p.name == "stages.conv0.weight").parameter.grad!;
        Assert.True(Difference($"{norm} gradient of conv0.weight", grad, TorchvisionReference.Tensor(r.GetProperty("grad_conv0_weight"))) < 1e-4);
        // Training mode moved batch norm's running statistics (momentum 0.1) and counter exactly as PyTorch's.
        foreach (var (name, buffer) in conv.named_buffers())
        {
            var expected = r.GetProperty("state_after_train").GetProperty(name);
            if (expected.ValueKind == JsonValueKind.Number) Assert.Equal(expected.GetInt64(), buffer.item<long>());
            else Assert.True(Difference($"{norm} {name} after a training step", buffer, TorchvisionReference.Tensor(expected)) < 1e-6);
        }

        conv.eval();
        using (no_grad())
        {
            using var eval = conv.forward(x);
            Assert.True(Difference($"{norm} evaluation output", eval, TorchvisionReference.Tensor(r.GetProperty("eval_output"))) < 1e-5);
        }
    }

    [Fact]
    public void Without_a_norm_the_parameters_keep_their_names_and_initialisation()
    {
        // Checkpoints and digests of conv examples written before norms existed stay valid.
        random.manual_seed(5);
        using var conv = new ConvEncoder([1, 8, 8], [4, 8], 3, Pool.Mean, 10);
        Assert.Equal(["stages.conv0.weight", "stages.conv0.bias", "stages.conv1.weight", "stages.conv1.bias", "head.weight", "head.bias"],
                     conv.state_dict().Keys);
        // The norms draw nothing from the generator, so every norm initialises the convolutions and the head alike.
        foreach (var norm in new[] { Norm.Batch, Norm.Group, Norm.Layer })
        {
            random.manual_seed(5);
            using var normed = new ConvEncoder([1, 8, 8], [4, 8], 3, Pool.Mean, 10, norm, groups: 2);
            foreach (var (name, value) in conv.state_dict())
                Assert.True(normed.state_dict()[name].equal(value).all().item<bool>(), $"{norm}: {name}");
        }
    }

    [Theory]
    [InlineData(Norm.Batch)]
    [InlineData(Norm.Group)]
    [InlineData(Norm.Layer)]
    public void Every_norm_starts_with_weight_one_and_bias_zero_as_in_pytorch(Norm norm)
    {
        // TorchSharp 0.107's GroupNorm alone leaves its affine weights uninitialised; the encoder sets them.
        for (var i = 0; i < 20; i++)
        {
            using var conv = new ConvEncoder([3, 12, 12], [4, 8], 3, Pool.Mean, 5, norm, groups: 2);
            foreach (var (name, p) in conv.named_parameters().Where(p => p.name.Contains(".norm", StringComparison.Ordinal)))
                Assert.True(p.eq(name.EndsWith("weight", StringComparison.Ordinal) ? 1 : 0).all().item<bool>(), $"{norm}: {name} = [{string.Join(", ", p.data<float>().ToArray())}]");
        }
    }

    [Fact]
    public void Batch_norm_couples_the_samples_of_a_batch_and_the_other_norms_do_not()
    {
        using var x = randn(6, 3, 12, 12, generator: new Generator(7));
        foreach (var norm in new[] { Norm.None, Norm.Batch, Norm.Group, Norm.Layer })
        {
            random.manual_seed(8);
            using var conv = new ConvEncoder([3, 12, 12], [4, 8], 3, Pool.Mean, 5, norm, groups: 2);
            conv.train();
            using var together = conv.forward(x);
            using var alone = conv.forward(x[..3]);
            var difference = (together[..3] - alone).abs().max().item<float>();
            Assert.True(norm == Norm.Batch ? difference > 1e-2 : difference < 1e-5, $"{norm}: the first three samples' outputs move by {difference} with the other three in the batch");
        }
    }

    [Fact]
    public void Smaller_images_pass_through_the_global_pool_and_too_small_ones_are_refused()
    {
        using var conv = new ConvEncoder([1, 28, 28], [8, 16], 3, Pool.Mean, 4, Norm.Group, groups: 4);
        Assert.Equal(new long[] { 2, 4 }, conv.forward(rand(2, 1, 12, 12)).shape);       // a local crop
        Assert.Equal(new long[] { 2, 4 }, conv.forward(rand(2, 784)).shape);             // flattened samples of the declared size
        Assert.Contains("below one pixel", Assert.Throws<ArgumentException>(() => conv.forward(rand(2, 1, 3, 3))).Message);
        Assert.Contains("groups", Assert.Throws<ArgumentException>(() => new ConvEncoder([1, 8, 8], [6], 3, Pool.Mean, 4, Norm.Group, groups: 4)).Message);
        Assert.Contains("conv", Assert.Throws<ArgumentException>(() => new MlpEncoder([4], [8], 2, Norm.Group)).Message);
    }
}
