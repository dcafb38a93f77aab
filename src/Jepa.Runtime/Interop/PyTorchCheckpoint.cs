using System.Collections;
using Jepa.Runtime.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Jepa.Runtime.Interop;

/// <summary>What a PyTorch checkpoint held besides the weights.</summary>
/// <param name="Path">The full path of the file.</param>
/// <param name="Experiment">The experiment name it was written for.</param>
/// <param name="Step">Optimizer steps taken when it was written.</param>
/// <param name="Epoch">The epoch of the next batch.</param>
/// <param name="Position">Batches taken in that epoch.</param>
/// <param name="WorldSize">Processes that trained it (1 for a TorchSharp run or one PyTorch process).</param>
/// <param name="HasOptimizerState">Whether it holds PyTorch optimizer state (TorchSharp does not read it).</param>
/// <param name="Seconds">Training time up to the checkpoint, as the program counted it.</param>
/// <param name="Readings">The collapse monitor's readings up to the checkpoint.</param>
/// <param name="Alarms">How many collapse alarms the run raised.</param>
/// <param name="Normalization">The input normalisation the run trained with (its <c>options</c>), null when the file
/// has none (a TorchSharp export, or a program that did not normalise).</param>
public sealed record PyTorchCheckpointInfo(string Path, string Experiment, long Step, int Epoch, long Position, int WorldSize, bool HasOptimizerState,
    double Seconds = 0, IReadOnlyList<CollapseReading>? Readings = null, int Alarms = 0, InputNormalization? Normalization = null);

/// <summary>
/// Checkpoints shared with the PyTorch programs that the PyTorch target writes (python/jepa_torch, docs/scale-out.md):
/// a <c>.pt</c> file (PyTorch's zip of a pickle, read and written with TorchSharp.PyBridge) holding one dictionary of
/// plain values and tensors, which PyTorch 2.6+ loads with <c>weights_only=True</c>:
/// <code>
/// format: "jepa-torch-checkpoint", version: 1, experiment: NAME,
/// step, epoch, position, total_steps, seconds, world_size,
/// options: the program's options, whose normalization {mean, std, samples} Load restores (a .NET export writes only
///   that: the normalisation its run trains with),
/// modules: { context: {state dict}, target: {state dict} (an EMA or independent target only), predictor: {state dict} },
/// optimizer: PyTorch's optimizer state_dict (written by PyTorch only; TorchSharp ignores it)
/// </code>
/// The state-dict names are the TorchSharp modules' own (python/jepa_torch builds its modules with the same names), so
/// <see cref="Load"/> puts a model trained with torchrun into a generated experiment and <see cref="Export"/> lets a
/// TorchSharp run continue in PyTorch (weights, EMA target and step; the optimizer starts afresh there).
/// </summary>
public static class PyTorchCheckpoint
{
    /// <summary>The <c>format</c> value of every file.</summary>
    public const string Format = "jepa-torch-checkpoint";

    /// <summary>The highest format version this runtime reads and the one it writes.</summary>
    public const int Version = 1;

    /// <summary>The file a PyTorch run writes in its run folder.</summary>
    public const string FileName = "checkpoint.pt";

    /// <summary>
    /// Loads the weights of a PyTorch checkpoint into <paramref name="experiment"/> (its context encoder, its EMA or
    /// independent target, its predictor), and its position (step, epoch, batch in the epoch), so that
    /// <c>Train</c> continues at that step with a fresh optimizer and <c>Evaluate</c>/<c>Encode</c> use the trained
    /// weights. The input normalisation the program trained with comes along, as from a TorchSharp checkpoint: an
    /// experiment that computes its own takes the file's (none when the file has none), a declared one must be the
    /// file's. Every tensor's name, type and shape is checked before any module changes; any problem is a
    /// <see cref="CheckpointException"/> naming the file and leaves the experiment as it was.
    /// </summary>
    public static PyTorchCheckpointInfo Load(JepaExperiment experiment, string path)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        experiment.RequireRegistered();
        var full = System.IO.Path.GetFullPath(path);
        var payload = Read(full);
        CheckpointException Fail(string problem) => new(full, problem);

        if (payload["experiment"] is not string name) throw Fail("it has no experiment name.");
        if (name != experiment.Name) throw Fail($"it was written for the experiment '{name}', not '{experiment.Name}'.");
        if (payload["modules"] is not Hashtable modules) throw Fail("it holds no modules.");

        // Read and check everything before changing anything.
        var updates = new List<(Tensor Into, Tensor From)>();
        foreach (var (role, module) in OwnModules(experiment))
        {
            if (modules[role] is not Hashtable saved) throw Fail($"it holds no weights for the {role} module.");
            var own = module.state_dict();
            var missing = own.Keys.Where(k => !saved.ContainsKey(k)).ToArray();
            var extra = saved.Keys.Cast<string>().Where(k => !own.ContainsKey(k)).Order(StringComparer.Ordinal).ToArray();
            if (missing.Length > 0 || extra.Length > 0)
                throw Fail($"the {role} module's tensors differ: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}].");
            foreach (var (key, into) in own)
            {
                if (saved[key] is not Tensor from) throw Fail($"{role}.{key} is not a tensor.");
                if (from.dtype != into.dtype || !from.shape.SequenceEqual(into.shape))
                    throw Fail($"{role}.{key} is {from.dtype}[{string.Join(", ", from.shape)}] in the file and {into.dtype}[{string.Join(", ", into.shape)}] here.");
                updates.Add((into, from));
            }
        }
        var normalization = Normalization(payload, Fail);
        if (experiment.InitialOptions.Normalization is { } declared && normalization is not null && !Same(declared, normalization))
            throw Fail($"it was trained with the normalisation {normalization}, and this experiment declares {declared}.");
        var info = new PyTorchCheckpointInfo(full, name, Integer(payload, "step", Fail), (int)Integer(payload, "epoch", Fail),
            Integer(payload, "position", Fail), payload.ContainsKey("world_size") ? (int)Integer(payload, "world_size", Fail) : 1,
            payload["optimizer"] is not null, payload["seconds"] is double s ? s : 0, Readings(payload["readings"]),
            payload["alarms"] is ICollection alarms ? alarms.Count : 0, normalization);

        using (no_grad())
        {
            foreach (var (into, from) in updates) into.copy_(from);
        }
        foreach (var (_, from) in updates) from.Dispose();
        if (experiment.InitialOptions.Normalization is null)
            experiment.EffectiveOptions = experiment.EffectiveOptions with { Normalization = normalization ?? InputNormalization.None };
        var state = experiment.State;
        state.Step = info.Step;
        state.Epoch = info.Epoch;
        state.Position = info.Position;
        if (payload["seconds"] is double seconds) state.Seconds = seconds;
        return info;
    }

    /// <summary>
    /// Writes <paramref name="experiment"/>'s modules and position as a PyTorch checkpoint (atomically: a temporary
    /// file in the same folder, flushed, then renamed), from which a PyTorch program resumes with <c>--resume</c>. The
    /// input normalisation the experiment trains with (declared, or computed by its run) goes along as
    /// <c>options.normalization</c>, so the program normalises as the .NET run did; an experiment that has none yet
    /// (never trained, none declared) writes no options.
    /// </summary>
    public static void Export(JepaExperiment experiment, string path)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        experiment.RequireRegistered();
        var state = experiment.State;
        var modules = new Hashtable();
        foreach (var (role, module) in OwnModules(experiment))
        {
            var tensors = new Hashtable();
            foreach (var (key, t) in module.state_dict()) tensors[key] = t;
            modules[role] = tensors;
        }
        var payload = new Hashtable
        {
            ["format"] = Format,
            ["version"] = Version,
            ["experiment"] = experiment.Name,
            ["step"] = state.Step,
            ["epoch"] = state.Epoch,
            ["position"] = state.Position,
            ["total_steps"] = state.TotalSteps,
            ["seconds"] = state.Seconds,
            ["world_size"] = 1,
            ["modules"] = modules,
        };
        if (experiment.EffectiveOptions.Normalization is { } normalization)
        {
            var saved = new Hashtable { ["mean"] = new ArrayList(normalization.Mean.ToArray()), ["std"] = new ArrayList(normalization.Std.ToArray()) };
            if (normalization.Samples is { } samples) saved["samples"] = samples;
            payload["options"] = new Hashtable { ["normalization"] = saved };
        }

        Write(path, payload);
    }

    /// <summary>The roles stored in a file: context, the target when it is a module of its own, predictor.</summary>
    private static IEnumerable<(string Role, nn.Module Module)> OwnModules(JepaExperiment experiment) =>
        experiment.Modules().Where(m => m.Role != "target" || !ReferenceEquals(m.Module, experiment.ContextModule));

    /// <summary>Reads a checkpoint file's dictionary, checking its format and version.</summary>
    public static Hashtable Read(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new CheckpointException(full, "the file does not exist.");
        Hashtable payload;
        try
        {
            using var stream = File.OpenRead(full);
            payload = PyTorchUnpickler.UnpickleStateDict(stream);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new CheckpointException(full, $"it is not a readable PyTorch file ({e.GetType().Name}: {e.Message}).", e);
        }
        if (payload["format"] as string != Format)
            throw new CheckpointException(full, $"it is not a Jepa PyTorch checkpoint (no format '{Format}'; a plain state dict loads with TorchSharp.PyBridge's load_py).");
        if (payload["version"] is not int version || version > Version)
            throw new CheckpointException(full, $"its format version is {payload["version"]}; this runtime reads up to {Version}.");
        return payload;
    }

    /// <summary>
    /// Writes a dictionary of plain values (strings, numbers, booleans, null), dictionaries and tensors as a PyTorch
    /// file, atomically. Tensors are written from contiguous CPU copies (PyTorch's format stores whole storages).
    /// </summary>
    public static void Write(string path, IDictionary payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var copies = new List<Tensor>();
        try
        {
            WriteFile(path, Portable(payload, copies));
        }
        finally
        {
            foreach (var t in copies) t.Dispose();
        }
    }

    private static Hashtable Portable(IDictionary source, List<Tensor> copies)
    {
        var result = new Hashtable();
        foreach (DictionaryEntry entry in source)
        {
            result[entry.Key] = entry.Value switch
            {
                Tensor t => Copy(t, copies),
                IDictionary inner => Portable(inner, copies),
                var other => other,
            };
        }
        return result;
    }

    private static Tensor Copy(Tensor t, List<Tensor> copies)
    {
        var copy = t.detach().cpu().clone(); // contiguous, offset 0, its own storage
        copies.Add(copy);
        return copy;
    }

    private static void WriteFile(string path, IDictionary payload)
    {
        var full = System.IO.Path.GetFullPath(path);
        var folder = System.IO.Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temp = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                PyTorchPickler.PickleStateDict(file, payload, leaveOpen: true);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>The program's collapse readings, <c>[[step, std, rank], ...]</c>; those not of that form are left out.</summary>
    private static List<CollapseReading> Readings(object? value)
    {
        static double? Number(object? x) => x switch { double d => d, int i => i, long l => l, _ => null };
        var readings = new List<CollapseReading>();
        if (value is not IEnumerable items) return readings;
        foreach (var item in items)
        {
            if (item is IList { Count: 3 } r && Number(r[0]) is { } step && Number(r[1]) is { } std && Number(r[2]) is { } rank)
                readings.Add(new CollapseReading((long)step, std, rank));
        }
        return readings;
    }

    /// <summary>The <c>options.normalization</c> of a program's checkpoint (<c>{mean: [...], std: [...], samples}</c>,
    /// python/jepa_torch/normalization.py), null when it has none.</summary>
    private static InputNormalization? Normalization(Hashtable payload, Func<string, CheckpointException> fail)
    {
        if (payload["options"] is not Hashtable options || options["normalization"] is not { } value) return null;
        static List<double>? Numbers(object? x) => x is IEnumerable items and not string
            ? items.Cast<object?>().Select(i => i switch { double d => d, int n => n, long n => n, _ => double.NaN }).ToList()
            : null;
        if (value is not Hashtable saved || Numbers(saved["mean"]) is not { Count: > 0 } mean || Numbers(saved["std"]) is not { } std
            || mean.Count != std.Count || mean.Any(m => !double.IsFinite(m)) || std.Any(d => !double.IsFinite(d) || d <= 0))
            throw fail("its options.normalization is not {mean: [...], std: [...]} with as many finite means as positive standard deviations.");
        return new InputNormalization(mean, std, saved["samples"] switch { int n => n, long n => n, _ => null });
    }

    private static bool Same(InputNormalization a, InputNormalization b) => a.Mean.SequenceEqual(b.Mean) && a.Std.SequenceEqual(b.Std);

    private static long Integer(Hashtable payload, string key, Func<string, CheckpointException> fail) => payload[key] switch
    {
        int i => i,
        long l => l,
        _ => throw fail($"its '{key}' is missing or not an integer."),
    };
}
