using Jepa.Runner;

namespace Jepa.EndToEnd.Tests;

public class TrainingChartTests
{
    [Theory]
    [InlineData(new[] { 0.05, 0.2, 4.9 }, false)]       // within two decades: linear
    [InlineData(new[] { 0.05, 650.0, 16.0 }, true)]     // a prediction loss beside SIGReg's statistic: logarithmic
    [InlineData(new[] { 0.0, 650.0 }, false)]           // a zero (or negative) value has no logarithm
    [InlineData(new[] { -0.5, 650.0 }, false)]
    public void Loss_axis_is_logarithmic_only_when_positive_terms_span_more_than_two_decades(double[] values, bool expected) =>
        Assert.Equal(expected, TrainingChart.UseLogScale(values));

    [Fact]
    public void Chart_of_terms_on_very_different_scales_is_written()
    {
        var folder = Directory.CreateTempSubdirectory("jepa-chart-").FullName;
        try
        {
            var lines = new List<string> { "step,epoch,loss,loss/smooth_l1,loss/sigreg,embedding_std,rankme" };
            for (var step = 10; step <= 200; step += 10)
            {
                lines.Add(FormattableString.Invariant($"{step},0,{0.05 + 600.0 / step},{0.05 + 0.01 / step},{600.0 / step},{(step % 50 == 0 ? 0.1 : double.NaN)},{(step % 50 == 0 ? 12.0 : double.NaN)}")
                    .Replace("NaN", "", StringComparison.Ordinal));
            }

            File.WriteAllLines(Path.Combine(folder, "metrics.csv"), lines);
            var path = TrainingChart.Write(folder, "Chart");
            Assert.Equal(Path.Combine(folder, TrainingChart.FileName), path);
            var bytes = File.ReadAllBytes(path!);
            Assert.True(bytes.Length > 10_000, $"{bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData(false, 700)]
    [InlineData(true, 1000)]
    public void A_run_with_an_online_evaluation_gets_a_third_panel(bool online, int height)
    {
        var folder = Directory.CreateTempSubdirectory("jepa-chart-").FullName;
        try
        {
            var lines = new List<string> { "step,epoch,loss,loss/smooth_l1,embedding_std,rankme,online_linear_probe,online_knn,online_seconds" };
            for (var step = 0; step <= 200; step += 10)
            {
                var reading = online && step % 50 == 0;
                lines.Add(FormattableString.Invariant($"{step},0,{0.05 + 1.0 / (step + 1)},{0.05 + 1.0 / (step + 1)},0.05,20,{(reading ? 0.8 + step / 1000.0 : double.NaN)},{(reading ? 0.7 + step / 1000.0 : double.NaN)},{(reading ? 0.02 : double.NaN)}")
                    .Replace("NaN", "", StringComparison.Ordinal));
            }

            File.WriteAllLines(Path.Combine(folder, "metrics.csv"), lines);
            var bytes = File.ReadAllBytes(TrainingChart.Write(folder, "Chart")!);
            // The PNG header's IHDR chunk: width and height, big-endian, at bytes 16-23.
            Assert.Equal(800, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)));
            Assert.Equal(height, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
