namespace Jepa.Runtime;

/// <summary>Byte counts as people read them, in binary units: 512 B, 3.0 KiB, 58.6 MiB, 1.50 GiB, 2.00 TiB.</summary>
public static class ByteSize
{
    public static string Format(long bytes) => bytes switch
    {
        < 1024 => FormattableString.Invariant($"{bytes} B"),
        < 1024 * 1024 => FormattableString.Invariant($"{bytes / 1024.0:F1} KiB"),
        < 1024L * 1024 * 1024 => FormattableString.Invariant($"{bytes / (1024.0 * 1024):F1} MiB"),
        < 1024L * 1024 * 1024 * 1024 => FormattableString.Invariant($"{bytes / (1024.0 * 1024 * 1024):F2} GiB"),
        _ => FormattableString.Invariant($"{bytes / (1024.0 * 1024 * 1024 * 1024):F2} TiB"),
    };
}
