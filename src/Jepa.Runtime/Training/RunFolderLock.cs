using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jepa.Runtime.Training;

/// <summary>
/// The ownership of a run folder: an exclusive OS lock on its <c>run.lock</c> file, held while one run writes the
/// folder, so that a second process (or a second run in this process) cannot train into it at the same time. The lock
/// is .NET's <see cref="FileShare.None"/>, which is <c>flock(LOCK_EX)</c> on Linux and macOS and a sharing lock on
/// Windows: the OS releases it when the process ends, however it ends (SIGKILL and the out-of-memory killer included).
/// Who holds it (host, process id, start time, command line) is written to <c>run.holder</c> beside it, which the lock
/// itself keeps readers from reading; a refused run names that holder. The lock file is never deleted (deleting it
/// would let two runs lock two different files of one name). Locks on network file systems (NFS, SMB, many FUSE file
/// systems) may not be enforced across machines: docs/runtime-training.md, "Who owns a run folder".
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    /// <summary>The file the lock is held on.</summary>
    public const string LockFileName = "run.lock";

    /// <summary>Who holds the lock: one JSON object (host, pid, started, command), deleted when the lock is released.</summary>
    public const string HolderFileName = "run.holder";

    /// <summary>The folders this process holds, so that the trainer does not lock a folder its runner already holds.</summary>
    private static readonly ConcurrentDictionary<string, RunFolderLock> Held = new(StringComparer.Ordinal);

    private FileStream? stream;

    private RunFolderLock(string folder, FileStream stream)
    {
        Folder = folder;
        this.stream = stream;
    }

    /// <summary>The folder's full path.</summary>
    public string Folder { get; }

    /// <summary>Whether this process holds the lock of <paramref name="folder"/>.</summary>
    public static bool IsHeld(string folder) => Held.ContainsKey(Path.GetFullPath(folder));

    /// <summary>
    /// Takes the lock of <paramref name="folder"/> (creating the folder) and records this process as its holder, or
    /// throws <see cref="RunFolderInUseException"/> naming the process that holds it.
    /// </summary>
    public static RunFolderLock Acquire(string folder)
    {
        var full = Path.GetFullPath(folder);
        Directory.CreateDirectory(full);
        var path = Path.Combine(full, LockFileName);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException && File.Exists(path))
        {
            throw new RunFolderInUseException(full, ReadHolder(full), e);
        }

        var held = new RunFolderLock(full, stream);
        if (!Held.TryAdd(full, held))
        {
            // Windows refuses a second open in one process above; flock on Unix does too (a lock per open file), so
            // this is only reached where neither holds: keep the rule the same everywhere.
            stream.Dispose();
            throw new RunFolderInUseException(full, ReadHolder(full), null);
        }

        try
        {
            var holder = new JsonObject
            {
                ["host"] = Environment.MachineName,
                ["pid"] = Environment.ProcessId,
                ["started"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture),
                ["command"] = string.Join(" ", Environment.GetCommandLineArgs()),
            };
            RunFolder.WriteAtomically(Path.Combine(full, HolderFileName), holder.ToJsonString() + "\n");
        }
        catch
        {
            held.Dispose();
            throw;
        }
        return held;
    }

    /// <summary>The holder recorded in <paramref name="folder"/>'s <c>run.holder</c>, in words; "another process" when
    /// the file is missing or unreadable.</summary>
    public static string ReadHolder(string folder)
    {
        try
        {
            if (JsonNode.Parse(File.ReadAllText(Path.Combine(folder, HolderFileName))) is JsonObject o)
            {
                var pid = o["pid"]?.ToJsonString() ?? "?";
                var host = o["host"]?.GetValue<string>() ?? "?";
                var started = o["started"]?.GetValue<string>();
                var command = o["command"]?.GetValue<string>();
                return $"process {pid} on host {host}" + (started is null ? "" : $", started {started}") + (string.IsNullOrEmpty(command) ? "" : $" ({command})");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            // Fall through: the holder is unknown.
        }
        return "another process";
    }

    /// <summary>Deletes <c>run.holder</c> and releases the lock (the OS releases it too when the process ends).</summary>
    public void Dispose()
    {
        var s = Interlocked.Exchange(ref stream, null);
        if (s is null) return;
        Held.TryRemove(new KeyValuePair<string, RunFolderLock>(Folder, this));
        try
        {
            File.Delete(Path.Combine(Folder, HolderFileName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A stale holder file is harmless: the next run replaces it.
        }
        s.Dispose();
    }
}

/// <summary>Another process (or another run of this one) holds the run folder's lock (<see cref="RunFolderLock"/>).</summary>
public sealed class RunFolderInUseException(string folder, string holder, Exception? inner)
    : IOException($"The run folder {folder} is in use by {holder}: one run at a time writes a folder. " +
                  "Wait for that run to end (or stop it), or give another --out.", inner)
{
    /// <summary>The folder's full path.</summary>
    public string Folder { get; } = folder;

    /// <summary>The holder, in words (process id, host, start time, command line).</summary>
    public string Holder { get; } = holder;
}
