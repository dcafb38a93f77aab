using System.Buffers.Binary;
using System.Text;

namespace Jepa.Runtime.Native;

/// <summary>Reads the version requirements (ELF <c>.gnu.version_r</c>) of a 64-bit little-endian shared library.</summary>
internal static class ElfVersionNeeds
{
    internal readonly record struct Need(string File, string Version, bool Weak);

    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    public static IReadOnlyList<Need> Read(string path)
    {
        var elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F' || elf[4] != 2 || elf[5] != 1)
            return [];
        var span = elf.AsSpan();
        long shoff = BinaryPrimitives.ReadInt64LittleEndian(span[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        var needs = new List<Need>();
        for (int s = 0; s < shnum; s++)
        {
            var sh = span[(int)(shoff + (long)s * shentsize)..];
            if (BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]) != ShtGnuVerneed) continue;
            long offset = BinaryPrimitives.ReadInt64LittleEndian(sh[0x18..]);
            uint link = BinaryPrimitives.ReadUInt32LittleEndian(sh[0x28..]);
            long strtab = BinaryPrimitives.ReadInt64LittleEndian(span[(int)(shoff + (long)link * shentsize + 0x18)..]);
            long vn = offset;
            while (true)
            {
                int count = BinaryPrimitives.ReadUInt16LittleEndian(span[(int)(vn + 2)..]);
                var file = ReadString(elf, strtab + BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(vn + 4)..]));
                uint aux = BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(vn + 8)..]);
                uint next = BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(vn + 12)..]);
                long va = vn + aux;
                for (int a = 0; a < count; a++)
                {
                    ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(span[(int)(va + 4)..]);
                    uint name = BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(va + 8)..]);
                    uint vnext = BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(va + 12)..]);
                    needs.Add(new Need(file, ReadString(elf, strtab + name), (flags & VerFlgWeak) != 0));
                    if (vnext == 0) break;
                    va += vnext;
                }
                if (next == 0) break;
                vn += next;
            }
        }
        return needs;
    }

    private static string ReadString(byte[] bytes, long at)
    {
        int end = Array.IndexOf(bytes, (byte)0, (int)at);
        return Encoding.ASCII.GetString(bytes, (int)at, (end < 0 ? bytes.Length : end) - (int)at);
    }
}
