using System.Text.Json.Nodes;
using Jepa.Runtime.Schedules;
using Jepa.Runtime.Training;

namespace Jepa.Runtime.Tests.Training;

public class OptionsTests
{
    [Fact]
    public void With_expressions_switch_between_steps_and_epochs()
    {
        var byEpochs = TinyOptions.Default with { Epochs = 5 };
        Assert.Equal(5, byEpochs.Epochs);
        Assert.Null(byEpochs.Steps);
        var bySteps = byEpochs with { Steps = 40 };
        Assert.Null(bySteps.Epochs);
        Assert.Equal(40, bySteps.Steps);

        var warm = TinyOptions.Default with { Schedule = LrScheduleKind.WarmupCosine, WarmupSteps = 100 };
        var warmEpochs = warm with { WarmupEpochs = 2.5 };
        Assert.Equal(0, warmEpochs.WarmupSteps);
        Assert.Equal(2.5, warmEpochs.WarmupEpochs);
        Assert.Empty(warmEpochs.Problems());
    }

    [Fact]
    public void Json_holds_base_and_derived_properties_with_readable_values()
    {
        var o = TinyOptions.Default with { GradClip = 3, Betas = (0.9, 0.95), WeightDecay = new Ramp(0.04, 0.4) };
        var json = JsonNode.Parse(o.ToJson())!.AsObject();
        Assert.Equal(16, json["Batch"]!.GetValue<int>());
        Assert.Equal(30, json["Steps"]!.GetValue<long>());
        Assert.Null(json["Epochs"]);
        Assert.Equal("AdamW", json["Optimizer"]!.GetValue<string>());
        Assert.Equal("Constant", json["Schedule"]!.GetValue<string>());
        Assert.Equal(3, json["GradClip"]!.GetValue<double>());
        Assert.Equal([0.9, 0.95], json["Betas"]!.AsArray().Select(n => n!.GetValue<double>()));
        Assert.Equal(0.04, json["WeightDecay"]!["Start"]!.GetValue<double>());
        Assert.False(json["WeightDecay"]!.AsObject().ContainsKey("IsConstant"));
        Assert.Equal(0.996, json["EmaMomentum"]!["Start"]!.GetValue<double>());
        Assert.Equal(8, json["Input"]!.GetValue<int>()); // derived record
        Assert.Equal("Ema", json["Target"]!.GetValue<string>());
        Assert.Equal("cpu", json["Device"]!.GetValue<string>());
    }

    [Fact]
    public void Problems_name_every_bad_value()
    {
        var o = TinyOptions.Default with
        {
            Batch = 0, LearningRate = new Ramp(-1), EmaMomentum = new Ramp(0.9, 1.1), GradClip = 0, Device = "gpu",
            Schedule = LrScheduleKind.WarmupCosine, Betas = (1.0, 0.9), Collapse = new CollapseMonitorOptions(0.01, 3, CollapseAction.Warn, 0),
        };
        var problems = o.Problems();
        Assert.Contains(problems, p => p.StartsWith("Batch must be at least 1", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("LearningRate must lie in [0, inf]", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("EmaMomentum must lie in [0, 1] (is 0.9 -> 1.1)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("GradClip must be positive", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Device must be cpu, cuda, cuda:N or auto (is 'gpu')", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Betas must lie in [0, 1)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Collapse.Every must be at least 1", StringComparison.Ordinal));
        var x = Assert.Throws<ArgumentException>(o.Validate);
        Assert.StartsWith("TinyOptions is not valid:", x.Message);
        Assert.Empty(TinyOptions.Default.Problems());
    }
}
