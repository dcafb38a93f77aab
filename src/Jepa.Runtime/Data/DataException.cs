namespace Jepa.Runtime.Data;

/// <summary>
/// Data that cannot be used: a missing or unreadable file, a malformed row, a wrong shape, a non-finite value, an
/// empty set, or labels missing where an evaluation needs them. Thrown before training starts; the message says what
/// was expected and where the data differs.
/// </summary>
public sealed class DataException : Exception
{
    /// <summary>Creates the exception with a message that names the data and the problem.</summary>
    public DataException(string message, Exception? inner = null) : base(message, inner) { }
}
