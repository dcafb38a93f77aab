using System.Buffers.Binary;
using Jepa.Runtime.Data;

namespace Jepa.Runtime.Tests.Data;

public class IdxTests
{
    internal static byte[] Idx(int[] dims, byte[] values)
    {
        var bytes = new byte[4 + 4 * dims.Length + values.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        values.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    private static readonly byte[] Pixels = Enumerable.Range(0, 3 * 2 * 4).Select(i => (byte)(i * 10)).ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_images_and_labels_plain_or_gzipped(bool gzip)
    {
        using var folder = new TempFolder();
        var images = folder.Write("imgs.bin", Idx([3, 2, 4], Pixels), gzip);
        var labels = folder.Write("lbls.bin", Idx([3], [7, 0, 9]), gzip);
        using var data = Datasets.Mnist(images, labels);
        Assert.Equal(new long[] { 3, 1, 2, 4 }, data.Features.shape);
        Assert.Equal(Pixels.Select(p => p / 255f), data.Features.data<float>().ToArray());
        Assert.Equal(new long[] { 7, 0, 9 }, data.Labels!.data<long>().ToArray());
        using var unlabelled = Datasets.Mnist(images);
        Assert.False(unlabelled.HasLabels);
    }

    [Fact]
    public void A_truncated_file_is_refused_with_the_sizes()
    {
        using var folder = new TempFolder();
        var path = folder.Write("imgs.bin", Idx([3, 2, 4], Pixels)[..^5]);
        var e = Assert.Throws<DataException>(() => Datasets.Mnist(path));
        Assert.Equal($"'{path}' is truncated: the header announces 3 x 2 x 4 values (40 bytes) but the file has 35 bytes.", e.Message);
    }

    [Fact]
    public void Swapped_files_are_recognised()
    {
        using var folder = new TempFolder();
        var images = folder.Write("imgs.bin", Idx([3, 2, 4], Pixels));
        var labels = folder.Write("lbls.bin", Idx([3], [7, 0, 9]));
        var e = Assert.Throws<DataException>(() => Datasets.Mnist(labels, images));
        Assert.Equal($"'{labels}' holds IDX data of 1 dimension(s) (3); MNIST images have 3 (count x rows x columns). Are the images and labels files swapped?", e.Message);
    }

    [Fact]
    public void Different_counts_of_images_and_labels_are_refused()
    {
        using var folder = new TempFolder();
        var images = folder.Write("imgs.bin", Idx([3, 2, 4], Pixels));
        var labels = folder.Write("lbls.bin", Idx([2], [7, 0]));
        Assert.Equal($"'{images}' has 3 images but '{labels}' has 2 labels.", Assert.Throws<DataException>(() => Datasets.Mnist(images, labels)).Message);
    }

    [Fact]
    public void Other_files_and_missing_files_are_refused()
    {
        using var folder = new TempFolder();
        var text = folder.Write("notes.txt", "hello world");
        Assert.Equal($"'{text}' is not an IDX file: it does not start with the bytes 00 00.", Assert.Throws<DataException>(() => Datasets.Mnist(text)).Message);
        Assert.Equal("The data file '/no/such/file' does not exist.", Assert.Throws<DataException>(() => Datasets.Mnist("/no/such/file")).Message);
    }
}
