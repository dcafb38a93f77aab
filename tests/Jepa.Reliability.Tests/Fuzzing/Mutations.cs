using System.Text;
using CsCheck;

namespace Jepa.Reliability.Tests.Fuzzing;

/// <summary>The example <c>.jepa</c> files of the repository and CsCheck generators of their byte-level mutations.</summary>
public static class Mutations
{
    /// <summary>Every <c>examples/*/*.jepa</c>, as (repository-relative path, bytes on disk).</summary>
    public static IReadOnlyList<(string Path, byte[] Bytes)> Examples { get; } = Directory
        .GetFiles(RepositoryRoot.Combine("examples"), "*.jepa", SearchOption.AllDirectories)
        .Order(StringComparer.Ordinal)
        .Select(f => (Path.GetRelativePath(RepositoryRoot.Path, f).Replace('\\', '/'), File.ReadAllBytes(f)))
        .ToList();

    /// <summary>Byte sequences that stress decoding and line handling: a byte-order mark, lone UTF-8 lead and
    /// continuation bytes, NUL, the UTF-8 of U+2028 and U+0085, CR, an overlong encoding, a surrogate half.</summary>
    private static readonly byte[][] Interesting =
    [
        [0xEF, 0xBB, 0xBF], [0xC3], [0x80], [0xFF], [0xFE], [0x00], [0xE2, 0x80, 0xA8], [0xC2, 0x85], [0x0D], [0xC0, 0xAF],
        [0xED, 0xA0, 0x80], [0x0D, 0x0A], [0x09], "//"u8.ToArray(), "/*"u8.ToArray(), "*/"u8.ToArray(), ";"u8.ToArray(),
        "}"u8.ToArray(), "{"u8.ToArray(), ","u8.ToArray(), "->"u8.ToArray(), ".."u8.ToArray(), "e9"u8.ToArray(), "-"u8.ToArray(),
    ];

    /// <summary>One edit of a byte string.</summary>
    private static Gen<Func<byte[], byte[]>> Mutation { get; } =
        Gen.Select(Gen.Int[0, 9], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], Gen.Int[1, 24], Gen.Byte.Array[1, 8],
            (kind, at, other, length, random) => new Func<byte[], byte[]>(bytes => Apply(bytes, kind, at, other, length, random)));

    private static byte[] Apply(byte[] bytes, int kind, int at, int other, int length, byte[] random)
    {
        var list = new List<byte>(bytes);
        var position = list.Count == 0 ? 0 : at % list.Count;
        switch (kind)
        {
            case 0 when list.Count > 0: // flip one bit
                list[position] ^= (byte)(1 << (other % 8));
                break;
            case 1 when list.Count > 0: // overwrite one byte
                list[position] = random[0];
                break;
            case 2: // insert random bytes
                list.InsertRange(at % (list.Count + 1), random);
                break;
            case 3 when list.Count > 0: // delete a range
                list.RemoveRange(position, Math.Min(length, list.Count - position));
                break;
            case 4 when list.Count > 0: // copy a range elsewhere
                var chunk = list.GetRange(position, Math.Min(length, list.Count - position));
                list.InsertRange(other % (list.Count + 1), chunk);
                break;
            case 5: // truncate
                list.RemoveRange(at % (list.Count + 1), list.Count - at % (list.Count + 1));
                break;
            case 6: // insert an interesting sequence
                list.InsertRange(at % (list.Count + 1), Interesting[other % Interesting.Length]);
                break;
            case 7: // change one digit of a number: keeps the file well-formed, moves values across ranges
            case 8:
                var digits = Enumerable.Range(0, list.Count).Where(i => list[i] is >= (byte)'0' and <= (byte)'9').ToList();
                if (digits.Count == 0) goto case 2;
                var digit = digits[at % digits.Count];
                if (kind == 7) list[digit] = (byte)('0' + other % 10);
                else list.InsertRange(digit, Encoding.ASCII.GetBytes((other % 1000).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                break;
            default: // swap two lines
                var text = Encoding.UTF8.GetString([.. list]).Split('\n');
                if (text.Length < 2) break;
                var a = at % text.Length;
                var b = other % text.Length;
                (text[a], text[b]) = (text[b], text[a]);
                return Encoding.UTF8.GetBytes(string.Join('\n', text));
        }

        return [.. list];
    }

    /// <summary>An example file after one to four byte-level edits.</summary>
    public static Gen<JepaFile> MutatedExample { get; } =
        Gen.Select(Gen.Int[0, Examples.Count - 1], Mutation.Array[1, 4], (index, edits) =>
        {
            var (path, bytes) = Examples[index];
            return new JepaFile("/project/" + path, edits.Aggregate(bytes, (b, edit) => edit(b)));
        });
}
