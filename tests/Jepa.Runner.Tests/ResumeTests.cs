using System.Text.Json.Nodes;
using Jepa.Runtime.Training;

namespace Jepa.Runner.Tests;

/// <summary>
/// <c>--resume DIR</c> restores the run from its run.json: run length, device, data (checked by fingerprint); the same
/// value again is fine, more steps extend the run with a warning, anything else is an error; a moved data set is given
/// again with --data, a changed one is refused naming the change.
/// </summary>
[Collection(RunnerCollection.Name)]
public class ResumeTests
{
    /// <summary>As if the run had been killed after its second-last checkpoint: that checkpoint becomes the latest.</summary>
    private static void RewindToPreviousCheckpoint(string folder) =>
        File.Move(Path.Combine(folder, RunFolder.PreviousCheckpointFileName), Path.Combine(folder, RunFolder.CheckpointFileName), overwrite: true);

    private static JsonObject Json(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    private static Workspace.Result Ok(Workspace.Result result)
    {
        Assert.True(result.ExitCode == 0, result.All);
        return result;
    }

    [Fact]
    public void A_run_started_with_steps_resumes_to_its_own_length_and_ends_as_a_run_never_interrupted()
    {
        using var ws = new Workspace();
        var data = ws.Csv("x.csv", 200);
        var straight = Ok(Workspace.Run("--data", data, "--steps", "4", "--out", ws.PathOf("straight")));
        var folder = ws.PathOf("run");
        Ok(Workspace.Run("--data", data, "--steps", "4", "--checkpoint-every", "2", "--out", folder));
        RewindToPreviousCheckpoint(folder); // step 2 of 4

        var resumed = Ok(Workspace.Run("--resume", folder));

        Assert.Contains("Trained 4 steps", resumed.Output); // not the file's 6
        Assert.Equal(straight.Digest, resumed.Digest);
        Assert.Equal(4, Json(Path.Combine(folder, RunFolder.OptionsFileName))["Steps"]!.GetValue<long>());
        Assert.Equal("", resumed.Error);

        // The same value again is fine.
        Ok(Workspace.Run("--resume", folder, "--steps", "4", "--data", data));
    }

    [Fact]
    public void A_run_on_its_own_data_resumes_on_that_data_without_data_given_again()
    {
        using var ws = new Workspace();
        var data = ws.Csv("x.csv", 200);
        var straight = Ok(Workspace.Run("--data", data, "--out", ws.PathOf("straight")));
        var folder = ws.PathOf("run");
        Ok(Workspace.Run("--data", data, "--checkpoint-every", "2", "--out", folder));
        RewindToPreviousCheckpoint(folder);

        // The experiment's input is [64], as the embedded digits': only run.json keeps it from training on them.
        var resumed = Ok(Workspace.Run("--resume", folder));

        Assert.Contains($"TinyVector: {data}: 200 samples of shape [64], 4 classes", resumed.Output);
        Assert.Equal(straight.Digest, resumed.Digest);
    }

    [Fact]
    public void Run_json_holds_the_options_the_data_with_its_fingerprint_and_the_normalisation()
    {
        using var ws = new Workspace();
        var data = ws.Csv("sets/x.csv", 200);
        var folder = ws.PathOf("run");

        Ok(Workspace.Run("--data", data, "--steps", "3", "--out", folder));

        var state = Json(Path.Combine(folder, RunFolder.StateFileName));
        Assert.Equal(1, state["format"]!.GetValue<int>());
        Assert.Equal("TinyVector", state["experiment"]!.GetValue<string>());
        Assert.Equal(3, state["options"]!["Steps"]!.GetValue<long>());
        Assert.Equal(RunSettings.DefaultCheckpointEvery, state["checkpoint_every"]!.GetValue<int>());
        var train = state["train"]!;
        Assert.Equal(data, train["paths"]![0]!.GetValue<string>());
        var fingerprint = train["fingerprint"]!;
        Assert.Equal("x.csv", fingerprint["files"]![0]!["path"]!.GetValue<string>()); // relative to the data's root
        Assert.Equal(new FileInfo(data).Length, fingerprint["files"]![0]!["bytes"]!.GetValue<long>());
        Assert.Equal(200, fingerprint["samples"]!.GetValue<long>());
        Assert.Null(state["test"]);
        var normalization = state["normalization"]!;
        Assert.Equal(150, normalization["samples"]!.GetValue<long>()); // the 150 the encoder trains on, without the held-out 50
        Assert.Equal(normalization["mean"]!.ToJsonString(), state["options"]!["Normalization"]!["Mean"]!.ToJsonString());
    }

    [Fact]
    public void Data_that_moved_is_given_again_and_data_that_changed_is_refused_naming_the_change()
    {
        using var ws = new Workspace();
        var data = ws.Csv("old/x.csv", 200);
        var folder = ws.PathOf("run");
        Ok(Workspace.Run("--data", data, "--steps", "4", "--checkpoint-every", "2", "--out", folder));
        RewindToPreviousCheckpoint(folder);
        Directory.CreateDirectory(ws.PathOf("new"));
        var moved = ws.PathOf("new/x.csv");
        File.Move(data, moved);

        var gone = Workspace.Run("--resume", folder);
        Assert.Equal(1, gone.ExitCode);
        Assert.Equal($"error: The run's data {data} is not there any more (--data of the run). If it moved, give its new place with --data NEWPATH: " +
                     "it is checked against the run's files, sizes and sample counts.\n", gone.Error);

        var changed = ws.Csv("changed/x.csv", 201);
        var refused = Workspace.Run("--resume", folder, "--data", changed);
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith($"error: --data {changed} is not the data the run trained on ({data}): x.csv has ", refused.Error);
        Assert.Contains("; it has 201 samples, 200 when the run started. A resumed run trains on the data it started with", refused.Error);

        var resumed = Ok(Workspace.Run("--resume", folder, "--data", moved));
        Assert.Contains($"The data of --data moved: {data} is now {moved} (the same files, sizes and sample counts).", resumed.Output);
        Assert.Contains("Trained 4 steps", resumed.Output);
        Assert.Equal(moved, Json(Path.Combine(folder, RunFolder.StateFileName))["train"]!["paths"]![0]!.GetValue<string>());
    }

    [Fact]
    public void More_steps_extend_the_run_with_a_warning_and_every_other_different_value_is_an_error()
    {
        using var ws = new Workspace();
        var folder = ws.PathOf("run");
        Ok(Workspace.Run("--steps", "4", "--out", folder));

        string Error(params string[] args)
        {
            var result = Workspace.Run(["--resume", folder, .. args]);
            Assert.True(result.ExitCode == 1, result.All);
            return result.Error;
        }

        Assert.Equal("error: The run is 4 steps long; --steps 3 would shorten it. A resumed run keeps its length, or extends it with more --steps.\n", Error("--steps", "3"));
        Assert.Equal("error: The run is 4 steps long; --epochs 2 would change how its length is counted. Give --steps N, more than 4, to extend it.\n", Error("--epochs", "2"));
        Assert.Equal("error: The run trains on device 'cpu'; --device auto would switch it. A resumed run keeps its device: start a new run (--out) to train elsewhere.\n", Error("--device", "auto"));
        var test = ws.Csv("test.csv", 40);
        Assert.StartsWith($"error: The run was started without --test-data; --test-data {test} would change the data it trains and evaluates on.", Error("--test-data", test));
        Assert.StartsWith("error: --data ", Error("--data", ws.Csv("other.csv", 300)));
        var other = new StringWriter();
        Assert.Equal(1, ExperimentRunner.Run(["--resume", folder], TinyVector.Definition with { Name = "Other" }, new StringWriter(), other));
        Assert.Equal($"error: {folder} holds a run of the experiment TinyVector, not Other.\n", other.ToString().ReplaceLineEndings("\n"));

        var extended = Ok(Workspace.Run("--resume", folder, "--steps", "7"));
        Assert.Equal("warning: --steps 7 extends the run from 4 steps. Schedules stretched over the run's length (learning rate, weight decay, EMA momentum) " +
                     "change from the resumed step on, so the result is not that of a run started with --steps 7.\n", extended.Error);
        Assert.Contains("Trained 7 steps", extended.Output);
        Assert.Contains("Trained 7 steps", Ok(Workspace.Run("--resume", folder)).Output); // the extension is the run's length now
    }

    [Fact]
    public void A_folder_without_run_json_resumes_with_the_command_lines_settings_and_says_so()
    {
        using var ws = new Workspace();
        var folder = ws.PathOf("run");
        var straight = Ok(Workspace.Run("--steps", "4", "--out", ws.PathOf("straight")));
        Ok(Workspace.Run("--steps", "4", "--checkpoint-every", "2", "--out", folder));
        RewindToPreviousCheckpoint(folder);
        File.Delete(Path.Combine(folder, RunFolder.StateFileName));

        var resumed = Ok(Workspace.Run("--resume", folder, "--steps", "4"));

        Assert.Contains($"Note: {folder} has no run.json", resumed.Output);
        Assert.Equal(straight.Digest, resumed.Digest); // the normalisation came from the checkpoint
        Assert.True(File.Exists(Path.Combine(folder, RunFolder.StateFileName)));
    }

    [Fact]
    public void Unlabelled_data_trains_and_says_it_skips_the_evaluation_and_probe_data_evaluates_it()
    {
        using var ws = new Workspace();
        var images = ws.IdxImages("images.idx", 96);
        var described = images; // how the runner names the data of --data: its paths

        var unlabelled = Ok(Workspace.Run("--data", images, "--steps", "2", "--out", ws.PathOf("a")));
        Assert.Contains($"{described} has no labels and no --probe-data was given: training on all 96 samples, without evaluation.", unlabelled.Output);
        Assert.False(File.Exists(Path.Combine(ws.PathOf("a"), EvaluationSuite.FileName)));

        var probe = ws.Csv("labelled.csv", 80);
        var probed = Ok(Workspace.Run("--data", images, "--probe-data", probe, "--steps", "2", "--out", ws.PathOf("b")));
        Assert.Contains("Evaluation on the held-out split", probed.Output);
        var data = Json(Path.Combine(ws.PathOf("b"), EvaluationSuite.FileName))["data"]!;
        Assert.Equal(96, data["train"]!["samples"]!.GetValue<long>());
        Assert.Equal(described, data["train"]!["source"]!.GetValue<string>());
        Assert.Equal(60, data["probe"]!["samples"]!.GetValue<long>());
        Assert.Equal(20, data["test"]!["samples"]!.GetValue<long>());
        Assert.Equal($"{probe}, held out (25 %, stratified)", data["test"]!["source"]!.GetValue<string>());
    }

    [Fact]
    public void Test_data_is_what_the_evaluation_reports_on()
    {
        using var ws = new Workspace();
        var train = ws.Csv("train.csv", 120);
        var test = ws.Csv("test.csv", 40, seed: 7);

        var result = Ok(Workspace.Run("--data", train, "--test-data", test, "--steps", "2", "--out", ws.PathOf("run")));

        Assert.Contains($"Training on 120 samples; evaluation on 40 samples of {test}.", result.Output);
        Assert.Contains("Evaluation on the test data", result.Output);
        var evaluation = Json(Path.Combine(ws.PathOf("run"), EvaluationSuite.FileName));
        Assert.Equal(40, evaluation["test_samples"]!.GetValue<int>());
        Assert.Equal(120, evaluation["data"]!["probe"]!["samples"]!.GetValue<long>());
    }
}
