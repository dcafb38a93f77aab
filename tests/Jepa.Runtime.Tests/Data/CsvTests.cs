using Jepa.Runtime.Data;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Data;

public class CsvTests
{
    private const string Small = "1,2,3,0\n4,5,6,1\n\n7,8,-9,2\n";

    [Fact]
    public void Reads_features_and_the_last_column_as_labels()
    {
        using var folder = new TempFolder();
        using var data = Datasets.Csv(folder.Write("small.csv", Small));
        Assert.Equal(3, data.Count);
        Assert.Equal(new long[] { 3 }, data.SampleShape);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6, 7, 8, -9 }, data.Features.data<float>().ToArray());
        Assert.Equal(new long[] { 0, 1, 2 }, data.Labels!.data<long>().ToArray());
        Assert.Equal(3, data.ClassCount);
    }

    [Fact]
    public void Gzip_is_detected_by_its_magic_bytes_whatever_the_name()
    {
        using var folder = new TempFolder();
        using var plain = Datasets.Csv(folder.Write("plain.csv", Small));
        using var zipped = Datasets.Csv(folder.Write("zipped.csv", Small, gzip: true));
        Assert.True(plain.Features.equal(zipped.Features).all().item<bool>());
        Assert.True(plain.Labels!.equal(zipped.Labels!).all().item<bool>());
    }

    [Fact]
    public void Label_column_can_be_any_index_or_none()
    {
        using var folder = new TempFolder();
        var path = folder.Write("first.csv", "5,1.5,2.5\n3,0.5,0.25\n");
        using var first = Datasets.Csv(path, new CsvOptions { Label = CsvLabel.At(0) });
        Assert.Equal(new long[] { 5, 3 }, first.Labels!.data<long>().ToArray());
        Assert.Equal(new float[] { 1.5f, 2.5f, 0.5f, 0.25f }, first.Features.data<float>().ToArray());
        using var none = Datasets.Csv(path, new CsvOptions { Label = CsvLabel.None });
        Assert.False(none.HasLabels);
        Assert.Equal(new long[] { 3 }, none.SampleShape);
        using var fromEnd = Datasets.Csv(path, new CsvOptions { Label = CsvLabel.At(-3) });
        Assert.True(fromEnd.Labels!.equal(first.Labels).all().item<bool>());
    }

    [Fact]
    public void Header_and_separator_and_scaling()
    {
        using var folder = new TempFolder();
        var path = folder.Write("header.csv", "a; b; label\n2; -8; 1\n4; 1; 0\n");
        using var raw = Datasets.Csv(path, new CsvOptions { HasHeader = true, Separator = ';' });
        Assert.Equal(new float[] { 2, -8, 4, 1 }, raw.Features.data<float>().ToArray());
        using var maxAbs = Datasets.Csv(path, new CsvOptions { HasHeader = true, Separator = ';', Scaling = ValueScaling.MaxAbs });
        Assert.Equal(new float[] { 0.25f, -1, 0.5f, 0.125f }, maxAbs.Features.data<float>().ToArray());
        using var divided = Datasets.Csv(path, new CsvOptions { HasHeader = true, Separator = ';', Scaling = ValueScaling.DivideBy(4) });
        Assert.Equal(new float[] { 0.5f, -2, 1, 0.25f }, divided.Features.data<float>().ToArray());
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var e = Assert.Throws<DataException>(() => Datasets.Csv("/no/such/dir/data.csv"));
        Assert.Equal("The data file '/no/such/dir/data.csv' does not exist.", e.Message);
    }

    [Fact]
    public void A_row_with_a_different_number_of_values_names_file_and_line()
    {
        using var folder = new TempFolder();
        var path = folder.Write("ragged.csv", "1,2,0\n\n3,4,5,1\n");
        var e = Assert.Throws<DataException>(() => Datasets.Csv(path));
        Assert.Equal($"{path}:3: expected 3 values (as on line 1), found 4.", e.Message);
    }

    [Fact]
    public void A_value_that_is_not_a_number_names_line_and_column()
    {
        using var folder = new TempFolder();
        var path = folder.Write("bad.csv", "1,2,0\n3,x4,1\n");
        var e = Assert.Throws<DataException>(() => Datasets.Csv(path));
        Assert.Equal($"{path}:2: the value 'x4' in column 2 is not a number.", e.Message);
    }

    [Fact]
    public void A_header_read_as_data_suggests_the_header_option()
    {
        using var folder = new TempFolder();
        var path = folder.Write("header.csv", "width,height,label\n1,2,0\n");
        var e = Assert.Throws<DataException>(() => Datasets.Csv(path));
        Assert.Equal($"{path}:1: the value 'width' in column 1 is not a number. If the first line holds column names, set HasHeader.", e.Message);
    }

    [Fact]
    public void A_label_that_is_not_a_class_index_is_refused()
    {
        using var folder = new TempFolder();
        var path = folder.Write("labels.csv", "1,2,0\n3,4,1.5\n");
        var e = Assert.Throws<DataException>(() => Datasets.Csv(path));
        Assert.Equal($"{path}:2: the label '1.5' in column 3 is not a class index (0, 1, 2, ...).", e.Message);
        using var floats = Datasets.Csv(folder.Write("floats.csv", "1,2,3.0\n4,5,0.0\n"));
        Assert.Equal(new long[] { 3, 0 }, floats.Labels!.data<long>().ToArray());
        var negative = folder.Write("negative.csv", "1,2,-1\n");
        Assert.Contains(":1: the label '-1'", Assert.Throws<DataException>(() => Datasets.Csv(negative)).Message);
    }

    [Fact]
    public void A_label_column_outside_the_row_is_refused()
    {
        using var folder = new TempFolder();
        var path = folder.Write("small.csv", "1,2,0\n");
        var e = Assert.Throws<DataException>(() => Datasets.Csv(path, new CsvOptions { Label = CsvLabel.At(5) }));
        Assert.Equal($"{path}:1: the label column 5 does not exist; the row has 3 values.", e.Message);
    }

    [Fact]
    public void A_broken_gzip_file_is_refused()
    {
        using var folder = new TempFolder();
        var path = folder.Write("broken.csv.gz", [0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]);
        var e = Assert.Throws<DataException>(() => Datasets.Csv(path));
        Assert.StartsWith($"{path} ", e.Message);
    }

    [Fact]
    public void An_empty_file_has_no_samples()
    {
        using var folder = new TempFolder();
        var path = folder.Write("empty.csv", "\n\n");
        Assert.Equal($"{path} has no samples.", Assert.Throws<DataException>(() => Datasets.Csv(path)).Message);
    }

    [Fact]
    public void Non_finite_values_are_reported_with_the_file_line()
    {
        using var folder = new TempFolder();
        var path = folder.Write("nan.csv", "1,2,0\n\n3,NaN,1\n4,Infinity,1\n");
        using var data = Datasets.Csv(path);
        var e = Assert.Throws<DataException>(() => data.Validate([2]));
        Assert.Equal($"{path} contains NaN at sample 1, feature 1 (both counted from 0) (line 3 of the file); every value must be finite.", e.Message);
    }

    [Fact]
    public void A_label_column_read_as_a_feature_is_hinted()
    {
        using var folder = new TempFolder();
        var path = folder.Write("labelled.csv", "1,2,3,0\n");
        using var data = Datasets.Csv(path, new CsvOptions { Label = CsvLabel.None });
        var e = Assert.Throws<DataException>(() => data.Validate([3]));
        Assert.Equal($"The experiment expects samples of shape [3] (3 values each), but {path} has samples of shape [4] (4 values each). Is the label column read as a feature? Set the label column in CsvOptions.", e.Message);
    }
}
