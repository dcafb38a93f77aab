using Jepa.Runtime.Data;

namespace Jepa.Runtime.Tests.Data;

/// <summary>A binary file given as CSV (an image, a zip, bytes that are not UTF-8) is named as such, instead of the
/// misleading "a row needs at least one feature" that its first line used to produce (found by docs/reliability.md's
/// bad-input runs).</summary>
public class CsvBinaryTests
{
    [Theory]
    [InlineData(new byte[] { 0x31, 0x2c, 0x32, 0x00, 0x33, 0x0a })]             // NUL in a line
    [InlineData(new byte[] { 0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x0a })]       // a zip file's magic
    [InlineData(new byte[] { 0x31, 0x2c, 0xff, 0xfe, 0x2c, 0x30, 0x0a })]       // bytes that are not UTF-8
    public void A_binary_file_is_not_CSV_text(byte[] bytes)
    {
        using var folder = new TempFolder();
        var path = folder.Write("binary.csv", bytes);
        var e = Assert.Throws<DataException>(() => Datasets.Csv(path));
        Assert.StartsWith($"{path}:1: this is not CSV text: character U+", e.Message);
        Assert.Contains("(a binary file, or compressed in a format other than gzip?)", e.Message);
    }

    [Fact]
    public void Tabs_and_carriage_returns_are_still_text()
    {
        using var folder = new TempFolder();
        using var data = Datasets.Csv(folder.Write("tabs.csv", "1,\t2,3\r\n4,5,6\r\n"));
        Assert.Equal(2, data.Count);
    }
}
