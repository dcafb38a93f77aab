using System.Runtime.InteropServices;
using Jepa.Runtime.Native;
using Jepa.Runtime.Tests.Training;
using Jepa.Runtime.Training;

namespace Jepa.Runtime.Tests.Native;

/// <summary>
/// <see cref="NativeHeap.Trim"/> against a heap fragmented on purpose: free memory between live blocks, which glibc's
/// <c>free</c> keeps (it gives back only the top of the heap). In the trainer's collection: no training runs beside it
/// and moves the resident memory while it is read.
/// </summary>
[Collection(TrainerCollection.Name)]
public class NativeHeapTests
{
    [Fact]
    public void Trim_gives_the_free_pages_between_live_blocks_back_to_the_system()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.False(NativeHeap.Trim());
            return;
        }

        // 24,000 blocks of 4 KiB (below glibc's mmap threshold: on the heap), each touched so its pages are resident;
        // then every block but each 64th freed: about 92 MiB free in runs of 63 blocks between live ones.
        const int count = 24_000, size = 4096;
        var blocks = new IntPtr[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                blocks[i] = Marshal.AllocHGlobal(size);
                Marshal.WriteByte(blocks[i], 0, 1);
                Marshal.WriteByte(blocks[i], size - 1, 1);
            }
            for (var i = 0; i < count; i++)
            {
                if (i % 64 == 0) continue;
                Marshal.FreeHGlobal(blocks[i]);
                blocks[i] = IntPtr.Zero;
            }

            var before = SystemMemory.Resident().Current;
            Assert.True(NativeHeap.Trim());
            var after = SystemMemory.Resident().Current;
            Assert.True(before - after >= 48L << 20, $"malloc_trim gave back {(before - after) >> 20} MiB of about 92 MiB free ({before >> 20} -> {after >> 20} MiB resident).");
        }
        finally
        {
            foreach (var block in blocks)
                if (block != IntPtr.Zero) Marshal.FreeHGlobal(block);
        }
    }
}
