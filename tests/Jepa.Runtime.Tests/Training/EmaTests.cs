using Jepa.Runtime.Models;
using Jepa.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Training;

/// <summary>The EMA update of parameters and buffers, against <c>m t + (1 - m) o</c> computed here in double precision
/// (float32 rounding: 1e-6 relative).</summary>
public class EmaTests
{
    private static ConvEncoder Conv() => new([3, 8, 8], [4], 3, Pool.Mean, 5, Norm.Batch);

    [Fact]
    public void Parameters_and_running_statistics_follow_the_online_network_and_the_counter_is_copied()
    {
        using var online = Conv();
        using var target = Ema.CopyOf(online, Conv);
        using var g = new Generator(3);
        online.train();
        using (no_grad())
        {
            foreach (var p in online.parameters()) p.add_(randn(p.shape, generator: g));
            online.forward(randn([16, 3, 8, 8], generator: g));                                  // moves the running statistics
            online.forward(randn([16, 3, 8, 8], generator: g));
        }
        var before = target.state_dict().ToDictionary(e => e.Key, e => e.Value.to(ScalarType.Float64).clone());
        const double m = 0.9;
        Ema.Update(target, online, m);
        var expected = online.state_dict();
        foreach (var (name, value) in target.state_dict())
        {
            if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            {
                Assert.Equal(2, value.item<long>());
                continue;
            }
            using var want = before[name] * m + expected[name].to(ScalarType.Float64) * (1 - m);
            var error = ((value.to(ScalarType.Float64) - want).abs() / want.abs().clamp_min(1)).max().item<double>();
            Assert.True(error < 1e-6, $"{name}: relative error {error}");
        }
        Assert.Contains("stages.norm0.running_var", target.state_dict().Keys);
    }

    [Fact]
    public void A_buffer_equal_in_both_networks_stays_bit_for_bit_the_same()
    {
        // The ViT's positional embedding is a buffer; m t + (1 - m) t in float32 could move it by rounding, lerp does not.
        using var online = new VitEncoder([1, 8, 8], 2, 16, 1, 2);
        using var target = Ema.CopyOf(online, () => new VitEncoder([1, 8, 8], 2, 16, 1, 2));
        var buffers = target.named_buffers().Select(b => (b.name, Value: b.buffer.clone())).ToArray();
        Assert.NotEmpty(buffers);
        for (var i = 0; i < 10; i++) Ema.Update(target, online, 0.996);
        foreach (var (name, value) in buffers)
            Assert.True(target.named_buffers().Single(b => b.name == name).buffer.equal(value).all().item<bool>(), name);
    }

    [Fact]
    public void Modules_with_different_buffers_are_refused()
    {
        using var batch = new MlpEncoder([4], [8], 2, Norm.Batch);
        using var layer = new MlpEncoder([4], [8], 2, Norm.Layer);
        Assert.Contains("different buffers", Assert.Throws<ArgumentException>(() => Ema.Update(layer, batch, 0.9)).Message);
    }
}
