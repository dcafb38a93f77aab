using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Jepa.Runtime.Training;

namespace Jepa.Runtime.Tests.Training;

/// <summary>
/// The runtime's parts of issue 15: the run folder's lock (one owner; the trainer takes it for a direct call), the
/// reading of the memory available (MemAvailable, cgroup v2 and v1 limits, from files laid out as Linux lays them out),
/// and allocation failures recognised in the allocators' messages.
/// </summary>
[Collection(TrainerCollection.Name)]
public class RunReliabilityTests
{
    [Fact]
    public void A_run_folder_has_one_owner_that_records_itself_and_frees_the_folder_when_released()
    {
        var folder = TestFolders.Create("lock");

        using (var held = RunFolderLock.Acquire(folder))
        {
            Assert.True(RunFolderLock.IsHeld(folder));
            var holder = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, RunFolderLock.HolderFileName)))!;
            Assert.Equal(Environment.ProcessId, holder["pid"]!.GetValue<int>());
            Assert.Equal(Environment.MachineName, holder["host"]!.GetValue<string>());

            var refused = Assert.Throws<RunFolderInUseException>(() => RunFolderLock.Acquire(folder));
            Assert.StartsWith($"The run folder {folder} is in use by process {Environment.ProcessId} on host {Environment.MachineName}, started ", refused.Message);

            Assert.True(RunFolderLock.IsHeld(Path.Combine(folder, ".")));
        }

        Assert.False(RunFolderLock.IsHeld(folder));
        Assert.False(File.Exists(Path.Combine(folder, RunFolderLock.HolderFileName)));
        RunFolderLock.Acquire(folder).Dispose();
    }

    [Fact]
    public void The_trainer_holds_the_folder_while_a_direct_call_trains_and_releases_it_after()
    {
        var folder = TestFolders.Create("lock-train");
        var heldWhileTraining = false;
        using var e = new TinyJepa();

        e.Train(TensorData.Random(), new TrainOptions { Steps = 3, RunFolder = folder },
            new SyncProgress<StepReport>(_ => heldWhileTraining |= RunFolderLock.IsHeld(folder)));

        Assert.True(heldWhileTraining);
        Assert.False(RunFolderLock.IsHeld(folder));
    }

    [Fact]
    public void Available_memory_is_the_smaller_of_MemAvailable_and_the_cgroups_room()
    {
        var root = TestFolders.Create("memory");
        string Proc(string cgroupLine, long availableKb)
        {
            var proc = Path.Combine(root, Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path.Combine(proc, "self"));
            File.WriteAllText(Path.Combine(proc, "meminfo"), $"MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   {availableKb} kB\n");
            File.WriteAllText(Path.Combine(proc, "self", "cgroup"), cgroupLine + "\n");
            return proc;
        }
        string Group(string relative, params (string File, string Text)[] files)
        {
            var dir = Path.Combine(root, "cg", relative);
            Directory.CreateDirectory(dir);
            foreach (var (file, text) in files) File.WriteAllText(Path.Combine(dir, file), text);
            return Path.Combine(root, "cg");
        }

        // cgroup v2 with a limit: 2 GiB max, 1.5 GiB used, of which 256 MiB inactive page cache: 768 MiB of room.
        var v2 = Group("job", ("memory.max", "2147483648\n"), ("memory.current", "1610612736\n"), ("memory.stat", "anon 1000\ninactive_file 268435456\n"));
        Assert.Equal((805306368L, "the cgroup's memory limit"), SystemMemory.Available(Proc("0::/job", 8_000_000), v2));
        // The same limit with more room than MemAvailable: MemAvailable.
        Assert.Equal((500_000L * 1024, "MemAvailable"), SystemMemory.Available(Proc("0::/job", 500_000), v2));
        // v2 without a limit ("max").
        var open = Group("open", ("memory.max", "max\n"), ("memory.current", "100\n"));
        Assert.Equal((8_000_000L * 1024, "MemAvailable"), SystemMemory.Available(Proc("0::/open", 8_000_000), open));
        // cgroup v1: 1 GiB limit, 600 MiB used, 100 MiB inactive: 524 MiB of room.
        var v1 = Group("memory/batch", ("memory.limit_in_bytes", "1073741824\n"), ("memory.usage_in_bytes", "629145600\n"), ("memory.stat", "cache 5\ntotal_inactive_file 104857600\n"));
        Assert.Equal((549453824L, "the cgroup's memory limit"), SystemMemory.Available(Proc("4:memory:/batch\n0::/", 8_000_000), v1));
        // v1 without a limit (the kernel's largest page-aligned number).
        var unlimited = Group("memory/free", ("memory.limit_in_bytes", "9223372036854771712\n"), ("memory.usage_in_bytes", "5\n"));
        Assert.Equal((8_000_000L * 1024, "MemAvailable"), SystemMemory.Available(Proc("4:memory:/free", 8_000_000), unlimited));

        var (current, peak) = SystemMemory.Resident();
        Assert.InRange(current, 10L << 20, peak);
    }

    [Fact]
    public void Allocation_failures_are_recognised_with_their_size_and_other_errors_are_not()
    {
        var cpu = AllocationFailedException.From(new ExternalException(
            "[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: can't allocate memory: you tried to allocate 25599999744 bytes. Error code 12 (Cannot allocate memory)"),
            "building modules");
        Assert.NotNull(cpu);
        Assert.Equal(25_599_999_744, cpu.Bytes);
        Assert.Equal("Out of memory (building modules): an allocation of 23.84 GiB (25,599,999,744 bytes) failed.", cpu.Message);

        var cuda = AllocationFailedException.From(new ExternalException(
            "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.15 GiB total capacity; 75.01 GiB already allocated)"), "training step 7");
        Assert.Equal(2L << 30, cuda!.Bytes);
        Assert.Equal("Out of memory (training step 7): an allocation of 2.00 GiB (2,147,483,648 bytes) failed.", cuda.Message);

        var managed = AllocationFailedException.From(new OutOfMemoryException(), "evaluation");
        Assert.Equal("Out of memory (evaluation): an allocation failed.", managed!.Message);
        Assert.Same(managed, AllocationFailedException.From(managed, "elsewhere"));

        Assert.Null(AllocationFailedException.From(new ExternalException("mat1 and mat2 shapes cannot be multiplied (4x3 and 5x6)"), "training step 1"));
        Assert.Null(AllocationFailedException.From(new InvalidOperationException("no"), "training step 1"));
    }
}
