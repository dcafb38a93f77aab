// netstandard2.0 lacks the marker types that C# 9+ records, init accessors and required members need.
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit
    {
    }
}
