using System.IO.Enumeration;

namespace Jepa.Runtime.Data;

/// <summary>A file found under a data folder: its path relative to the folder ('/' separators) and its size.</summary>
internal readonly record struct ListedFile(string Path, long Bytes);

/// <summary>
/// One pass over a folder and all its subfolders (one directory read per folder, sizes from the same entries): the
/// files and the subfolders (empty ones too). Hidden entries (names starting with '.') are skipped. Paths are sorted
/// by code point, as Python's <c>sorted</c> sorts strings.
/// </summary>
internal sealed class FolderListing
{
    private FolderListing(string root, List<ListedFile> files, List<string> folders)
    {
        Root = root;
        Files = files;
        Folders = folders;
    }

    public string Root { get; }

    /// <summary>Every file, sorted by folder then name (as torchvision's ImageFolder walks a class folder).</summary>
    public IReadOnlyList<ListedFile> Files { get; }

    /// <summary>Every subfolder, sorted.</summary>
    public IReadOnlyList<string> Folders { get; }

    /// <summary>The subfolders directly in <paramref name="folder"/> ("" for the root), by name, sorted.</summary>
    public IEnumerable<string> SubfoldersOf(string folder) =>
        Folders.Where(f => Parent(f) == folder).Select(f => f[(f.LastIndexOf('/') + 1)..]);

    /// <summary>The folder part of a relative path ("" at the root).</summary>
    public static string Parent(string path) => path.LastIndexOf('/') is var slash and >= 0 ? path[..slash] : "";

    public static FolderListing Of(string root)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = false,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
            ReturnSpecialDirectories = false,
        };
        var rootLength = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)).Length + 1;
        var entries = new FileSystemEnumerable<(string Path, long Bytes, bool Folder)>(Path.GetFullPath(root),
            (ref FileSystemEntry e) => (e.ToFullPath()[rootLength..].Replace('\\', '/'), e.IsDirectory ? 0 : e.Length, e.IsDirectory), options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.FileName.StartsWith('.'),
            ShouldRecursePredicate = (ref FileSystemEntry e) => !e.FileName.StartsWith('.'),
        };
        var files = new List<ListedFile>();
        var folders = new List<string>();
        try
        {
            foreach (var (path, bytes, folder) in entries)
            {
                if (folder) folders.Add(path);
                else files.Add(new ListedFile(path, bytes));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"The data folder '{root}' cannot be listed: {e.Message}", e);
        }
        files.Sort((a, b) => CompareWalkOrder(a.Path, b.Path));
        folders.Sort(CodePoints.Instance);   // a folder's subfolders stay in name order among themselves
        return new FolderListing(root, files, folders);
    }

    /// <summary>Folder path first, then file name, each by code point: a folder's files before its subfolders' files.</summary>
    private static int CompareWalkOrder(string a, string b)
    {
        var folder = CodePoints.Compare(Parent(a), Parent(b));
        return folder != 0 ? folder : CodePoints.Compare(a.AsSpan(a.LastIndexOf('/') + 1), b.AsSpan(b.LastIndexOf('/') + 1));
    }
}

/// <summary>
/// Orders strings by Unicode code point, as Python's <c>sorted</c> does (culture-independent). Ordinal UTF-16 order
/// differs only where a character beyond U+FFFF (a surrogate pair) meets one from U+E000 to U+FFFF.
/// </summary>
internal sealed class CodePoints : IComparer<string>
{
    public static readonly CodePoints Instance = new();

    public int Compare(string? x, string? y) => Compare(x.AsSpan(), y.AsSpan());

    public static int Compare(ReadOnlySpan<char> x, ReadOnlySpan<char> y)
    {
        var common = x.CommonPrefixLength(y);
        if (common == x.Length || common == y.Length) return x.Length.CompareTo(y.Length);
        char a = x[common], b = y[common];
        if (char.IsSurrogate(a) != char.IsSurrogate(b)) return char.IsSurrogate(a) ? 1 : -1;
        return a.CompareTo(b);
    }
}
