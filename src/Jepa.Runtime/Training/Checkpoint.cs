using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>
/// The checkpoint file format (version 1), little-endian:
/// <code>
/// offset 0   8 bytes  magic "JEPACKPT"
/// offset 8   4 bytes  format version (uint32) = 1
/// offset 12  8 bytes  payload length n (int64)
/// offset 20  n bytes  payload: tagged sections meta, progress, schedules, rng, modules, optimizer, monitor, online, end
///                     (online is absent from checkpoints written before it existed)
/// offset 20+n 32 bytes SHA-256 of the payload
/// </code>
/// Written to a temporary file in the target folder, flushed to disk, then renamed over the target, so a crash leaves
/// either the old or the new file. Reading checks size, magic, version and checksum before parsing anything, then
/// reads every module tensor and checks names, types and shapes before any module is changed.
/// </summary>
internal static class Checkpoint
{
    public static ReadOnlySpan<byte> Magic => "JEPACKPT"u8;
    public const uint Version = 1;
    private const int HeaderLength = 20;
    private const int HashLength = 32;

    private const string NormalizationKey = nameof(ExperimentOptions.Normalization);

    /// <summary>Option names that may differ between a checkpoint and the experiment loading it (run length, device, monitoring, evaluation).</summary>
    internal static readonly HashSet<string> MayDiffer = ["Steps", "Epochs", "Device", "Collapse", "Evaluation"];

    /// <summary>
    /// Writes the checkpoint of <paramref name="experiment"/> to <paramref name="path"/> atomically. With
    /// <paramref name="previous"/>, an existing file at <paramref name="path"/> is first renamed to it (so there is always
    /// a complete checkpoint: the new one, or, for the instant between the two renames, the previous one).
    /// </summary>
    public static void Write(string path, JepaExperiment experiment, string? previous = null)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                file.Write(Magic);
                Span<byte> header = stackalloc byte[12];
                BitConverter.TryWriteBytes(header[..4], Version);
                file.Write(header); // the payload length is filled in below
                using var hashing = new HashingStream(file);
                using (var writer = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
                {
                    WritePayload(writer, experiment);
                }
                var length = hashing.Length;
                file.Write(hashing.Hash());
                file.Position = 12;
                file.Write(BitConverter.GetBytes(length));
                file.Flush(flushToDisk: true);
            }
            if (previous is not null && File.Exists(full)) File.Move(full, previous, overwrite: true);
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    private const string TemporarySuffix = ".tmp";

    /// <summary>
    /// Deletes the temporary files that writes of <paramref name="fileName"/> in <paramref name="folder"/> left behind
    /// when their process was killed mid-write (<c>.NAME.PID.GUID.tmp</c> of a process that no longer runs).
    /// Returns how many it deleted.
    /// </summary>
    public static int DeleteAbandonedTemporaries(string folder, string fileName)
    {
        if (!Directory.Exists(folder)) return 0;
        var deleted = 0;
        foreach (var file in Directory.EnumerateFiles(folder, $".{fileName}.*{TemporarySuffix}"))
        {
            var parts = Path.GetFileName(file)[(fileName.Length + 2)..].Split('.');
            if (parts.Length != 3 || !int.TryParse(parts[0], out var pid) || pid == Environment.ProcessId || IsRunning(pid)) continue;
            try
            {
                File.Delete(file);
                deleted++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left for a later run: a stale temporary file is harmless.
            }
        }
        return deleted;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return false;
        }
    }

    private static void WritePayload(BinaryWriter w, JepaExperiment e)
    {
        var state = e.State;
        var options = e.EffectiveOptions;

        Section(w, "meta");
        w.Write(e.Name);
        w.Write(options.GetType().FullName ?? options.GetType().Name);
        w.Write(options.ToJson());
        w.Write(typeof(Checkpoint).Assembly.GetName().Version?.ToString() ?? "");
        w.Write(DateTime.UtcNow.ToString("O"));

        Section(w, "progress");
        w.Write(state.Step);
        w.Write(state.Epoch);
        w.Write(state.Position);
        w.Write(state.TotalSteps);
        w.Write(state.Seconds);
        w.Write(state.LastLoss);
        w.Write(JsonSerializer.Serialize(state.LastTerms));

        // Every schedule is a pure function of the step (TrainingSchedule); its position is the step, kept per schedule
        // so a reader can see where each one stood.
        Section(w, "schedules");
        string[] schedules = e.TargetKind == TargetKind.Ema ? ["learning_rate", "weight_decay", "ema_momentum"] : ["learning_rate", "weight_decay"];
        w.Write(schedules.Length);
        foreach (var name in schedules)
        {
            w.Write(name);
            w.Write(state.Step);
        }

        Section(w, "rng");
        using (var g = e.EnsureGenerator().get_state()) SaveTensor(w, g);
        lock (JepaExperiment.GlobalRandomLock)
        {
            using var d = torch.random.get_rng_state();
            SaveTensor(w, d);
        }

        Section(w, "modules");
        var modules = e.Modules().ToArray();
        w.Write(modules.Length);
        foreach (var (role, module) in modules)
        {
            w.Write(role);
            var shared = role != "context" && ReferenceEquals(module, e.ContextModule);
            w.Write(shared);
            if (shared) continue;
            var sd = module.state_dict();
            w.Write(sd.Count);
            foreach (var (key, tensor) in sd)
            {
                w.Write(key);
                SaveTensor(w, tensor);
            }
        }

        Section(w, "optimizer");
        var optimizer = e.Optimizer;
        w.Write(optimizer is not null);
        if (optimizer is not null)
        {
            w.Write(optimizer.Kind.ToString());
            using var buffer = new MemoryStream();
            using (var ow = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true)) optimizer.Save(ow);
            w.Write(checked((int)buffer.Length));
            w.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        Section(w, "monitor");
        w.Write(JsonSerializer.Serialize(state.Readings));
        w.Write(JsonSerializer.Serialize(state.Alarms));

        Section(w, "online");
        w.Write(JsonSerializer.Serialize(state.OnlineReadings));

        Section(w, "end");
    }

    public static void Read(string path, JepaExperiment e)
    {
        var full = Path.GetFullPath(path);
        CheckpointException Fail(string problem, Exception? inner = null) => new(full, problem, inner);
        if (!File.Exists(full)) throw Fail("the file does not exist.");

        using var file = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (file.Length < HeaderLength + HashLength)
            throw Fail($"the file is truncated: it has {file.Length} bytes, fewer than the {HeaderLength + HashLength} of an empty checkpoint.");
        Span<byte> header = stackalloc byte[HeaderLength];
        file.ReadExactly(header);
        if (!header[..8].SequenceEqual(Magic))
            throw Fail($"it is not a Jepa checkpoint (its first bytes are {Convert.ToHexString(header[..8])}, not \"JEPACKPT\").");
        var version = BitConverter.ToUInt32(header[8..12]);
        if (version != Version)
            throw Fail($"it has checkpoint format version {version}; this runtime reads version {Version}.");
        var length = BitConverter.ToInt64(header[12..20]);
        var expected = HeaderLength + length + HashLength;
        if (length < 0 || file.Length < expected)
            throw Fail($"the file is truncated: its header announces {length} bytes of content ({expected} bytes in all), the file has {file.Length}.");
        if (file.Length > expected)
            throw Fail($"the file has {file.Length - expected} unexpected bytes after its checksum.");

        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            var chunk = new byte[1 << 20];
            var left = length;
            while (left > 0)
            {
                var n = file.Read(chunk, 0, (int)Math.Min(chunk.Length, left));
                if (n == 0) throw Fail("the file is truncated.");
                sha.AppendData(chunk, 0, n);
                left -= n;
            }
            var stored = new byte[HashLength];
            file.ReadExactly(stored);
            var actual = sha.GetHashAndReset();
            if (!actual.AsSpan().SequenceEqual(stored))
                throw Fail($"checksum mismatch: the content was altered or damaged (SHA-256 stored {Convert.ToHexString(stored)[..16]}..., computed {Convert.ToHexString(actual)[..16]}...).");
        }

        file.Position = HeaderLength;
        using var r = new BinaryReader(file, Encoding.UTF8, leaveOpen: true);
        try
        {
            ReadPayload(r, e, Fail);
        }
        catch (CheckpointException)
        {
            throw;
        }
        catch (Exception x) when (x is EndOfStreamException or IOException or ArgumentException or InvalidDataException or FormatException or JsonException or InvalidOperationException or ExternalException)
        {
            throw Fail($"its content does not fit this experiment ({x.Message})", x);
        }
    }

    /// <summary><c>Digits.DigitsJepa+Options</c> as <c>DigitsJepa+Options</c>: the type's name and the types it is nested in.</summary>
    internal static string WithoutNamespace(string fullName)
    {
        var nested = fullName.IndexOf('+');
        var dot = (nested < 0 ? fullName : fullName[..nested]).LastIndexOf('.');
        return fullName[(dot + 1)..];
    }

    private static void ReadPayload(BinaryReader r, JepaExperiment e, Func<string, Exception?, CheckpointException> fail)
    {
        Expect(r, "meta", fail);
        var name = r.ReadString();
        var optionsType = r.ReadString();
        var optionsJson = r.ReadString();
        r.ReadString(); // runtime version
        r.ReadString(); // written at
        if (name != e.Name)
            throw fail($"it holds experiment '{name}', not '{e.Name}' (options of a different experiment).", null);
        // The namespace is the project's, not the experiment's: a run of examples/Digits (Digits.DigitsJepa) loads into
        // the same .jepa compiled by `jepa evaluate` (DigitsJepa). The name and the options below must still match.
        var ownType = e.InitialOptions.GetType().FullName ?? e.InitialOptions.GetType().Name;
        if (WithoutNamespace(optionsType) != WithoutNamespace(ownType))
            throw fail($"its options are a {optionsType}, not a {ownType} (options of a different experiment).", null);
        var savedOptions = JsonNode.Parse(optionsJson)!.AsObject();
        var current = e.InitialOptions.ToJsonObject();
        // An experiment that computes its normalisation on the training data takes the checkpoint's (a checkpoint
        // written before normalisation existed trained without it); a declared one must be the checkpoint's.
        var normalization = savedOptions.TryGetPropertyValue(NormalizationKey, out var saved)
            ? JsonSerializer.Deserialize<InputNormalization>(saved, ExperimentOptions.Json)
            : InputNormalization.None;
        if (e.InitialOptions.Normalization is null) current[NormalizationKey] = saved?.DeepClone();
        var differences = Differences(savedOptions, current);
        if (differences.Count > 0)
            throw fail($"its options differ from this experiment's (options of a different experiment): {string.Join("; ", differences)}.", null);

        Expect(r, "progress", fail);
        var step = r.ReadInt64();
        var epoch = r.ReadInt32();
        var position = r.ReadInt64();
        var totalSteps = r.ReadInt64();
        var seconds = r.ReadDouble();
        var lastLoss = r.ReadDouble();
        var lastTerms = JsonSerializer.Deserialize<Dictionary<string, double>>(r.ReadString()) ?? [];

        Expect(r, "schedules", fail);
        var scheduleCount = r.ReadInt32();
        for (var i = 0; i < scheduleCount; i++)
        {
            var scheduleName = r.ReadString();
            var at = r.ReadInt64();
            if (at != step) throw fail($"schedule '{scheduleName}' stands at step {at} but the run at step {step}.", null);
        }

        Expect(r, "rng", fail);
        using var generatorState = LoadTensor(r);
        using var globalState = LoadTensor(r);

        // Modules: read everything and check it against this experiment before changing anything.
        Expect(r, "modules", fail);
        var moduleCount = r.ReadInt32();
        var own = e.Modules().ToArray();
        if (moduleCount != own.Length) throw fail($"it holds {moduleCount} modules, this experiment has {own.Length}.", null);
        var loaded = new List<(nn.Module Module, List<(string Key, Tensor Value)> Tensors)>();
        try
        {
            for (var i = 0; i < moduleCount; i++)
            {
                var role = r.ReadString();
                var (ownRole, module) = own[i];
                if (role != ownRole) throw fail($"module {i} is '{role}', expected '{ownRole}'.", null);
                var shared = r.ReadBoolean();
                var ownShared = ownRole != "context" && ReferenceEquals(module, e.ContextModule);
                if (shared != ownShared)
                    throw fail($"its {role} {(shared ? "is" : "is not")} the context encoder itself, here it {(ownShared ? "is" : "is not")} (a different target kind).", null);
                if (shared) continue;
                var sd = module.state_dict();
                var count = r.ReadInt32();
                var tensors = new List<(string, Tensor)>(count);
                loaded.Add((module, tensors));
                for (var k = 0; k < count; k++)
                {
                    var key = r.ReadString();
                    var value = LoadTensor(r);
                    tensors.Add((key, value));
                    if (!sd.TryGetValue(key, out var target))
                        throw fail($"its {role} has '{key}', which this experiment's {role} lacks (a different architecture).", null);
                    if (target.dtype != value.dtype || !target.shape.SequenceEqual(value.shape))
                        throw fail($"its {role} '{key}' is {value.dtype}[{string.Join(", ", value.shape)}], here {target.dtype}[{string.Join(", ", target.shape)}] (a different architecture).", null);
                }
                var missing = sd.Keys.Except(tensors.Select(t => t.Item1)).ToArray();
                if (missing.Length > 0)
                    throw fail($"its {role} lacks [{string.Join(", ", missing)}] (a different architecture).", null);
            }

            Expect(r, "optimizer", fail);
            byte[]? optimizerState = null;
            string? optimizerKind = null;
            if (r.ReadBoolean())
            {
                optimizerKind = r.ReadString();
                optimizerState = r.ReadBytes(r.ReadInt32());
            }
            Expect(r, "monitor", fail);
            var readings = JsonSerializer.Deserialize<List<CollapseReading>>(r.ReadString()) ?? [];
            var alarms = JsonSerializer.Deserialize<List<CollapseAlarm>>(r.ReadString()) ?? [];
            // The online section is optional: checkpoints written before it existed go from monitor to end.
            var next = r.ReadString();
            List<OnlineReading> online = [];
            if (next == "online")
            {
                online = JsonSerializer.Deserialize<List<OnlineReading>>(r.ReadString()) ?? [];
                next = r.ReadString();
            }
            Expect(next, "end", fail);
            if (optimizerKind is not null && optimizerKind != e.InitialOptions.Optimizer.ToString())
                throw fail($"its optimizer is {optimizerKind}, this experiment's {e.InitialOptions.Optimizer}.", null);

            // Everything was read and checked: apply.
            using (no_grad())
            {
                foreach (var (module, tensors) in loaded)
                {
                    var sd = module.state_dict();
                    foreach (var (key, value) in tensors) sd[key].copy_(value);
                }
            }
            if (optimizerState is not null)
            {
                using var reader = new BinaryReader(new MemoryStream(optimizerState));
                e.EnsureOptimizer().Load(reader);
            }
            e.EnsureGenerator().set_state(generatorState);
            lock (JepaExperiment.GlobalRandomLock) torch.random.set_rng_state(globalState);
            if (e.InitialOptions.Normalization is null) e.EffectiveOptions = e.EffectiveOptions with { Normalization = normalization };
            var state = e.State;
            state.Step = step;
            state.Epoch = epoch;
            state.Position = position;
            state.TotalSteps = totalSteps;
            state.Seconds = seconds;
            state.LastLoss = lastLoss;
            state.LastTerms = lastTerms;
            state.Readings = readings;
            state.Alarms = alarms;
            state.OnlineReadings = online;
        }
        finally
        {
            foreach (var (_, tensors) in loaded)
                foreach (var (_, value) in tensors) value.Dispose();
        }
    }

    /// <summary>The options that differ (other than <see cref="MayDiffer"/>), as "Name: a in the checkpoint, b here".</summary>
    internal static List<string> Differences(JsonObject saved, JsonObject current)
    {
        var result = new List<string>();
        foreach (var key in saved.Select(p => p.Key).Union(current.Select(p => p.Key)).Order(StringComparer.Ordinal))
        {
            if (MayDiffer.Contains(key)) continue;
            saved.TryGetPropertyValue(key, out var a);
            current.TryGetPropertyValue(key, out var b);
            if (JsonNode.DeepEquals(a, b)) continue;
            result.Add($"{key}: {Short(a)} in the checkpoint, {Short(b)} here");
        }
        return result;
    }

    private static string Short(JsonNode? n)
    {
        var s = n?.ToJsonString() ?? "(missing)";
        return s.Length > 80 ? s[..77] + "..." : s;
    }

    private static void Section(BinaryWriter w, string tag) => w.Write(tag);

    private static void Expect(BinaryReader r, string tag, Func<string, Exception?, CheckpointException> fail) => Expect(r.ReadString(), tag, fail);

    private static void Expect(string found, string tag, Func<string, Exception?, CheckpointException> fail)
    {
        if (found != tag) throw fail($"its content is malformed: expected section '{tag}', found '{Short(found)}'.", null);
    }

    private static string Short(string s) => s.Length > 40 ? s[..37] + "..." : s;

    private static void SaveTensor(BinaryWriter w, Tensor t)
    {
        if (t.is_contiguous() && t.device_type == DeviceType.CPU)
        {
            t.Save(w);
            return;
        }
        using var c = t.detach().cpu().contiguous();
        c.Save(w);
    }

    /// <summary>A new CPU tensor, outside any dispose scope (the caller disposes it).</summary>
    private static Tensor LoadTensor(BinaryReader r) => TensorExtensionMethods.Load(r).DetachFromDisposeScope();

    /// <summary>A write-only stream that hashes (SHA-256) and counts what passes through to the inner stream.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long length;

        public byte[] Hash() => sha.GetHashAndReset();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            sha.AppendData(buffer);
            inner.Write(buffer);
            length += buffer.Length;
        }

        public override void WriteByte(byte value) => Write([value]);

        public override void Flush() => inner.Flush();

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => length;
        public override long Position { get => length; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) sha.Dispose();
            base.Dispose(disposing);
        }
    }
}
