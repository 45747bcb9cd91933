namespace Learn.IO;

/// <summary>
/// Reads a whole input file with a bound known before reading: the size the file system reports. A character
/// device such as /dev/zero reports 0 and yields no bytes (the format readers then refuse it), instead of being
/// read until memory runs out; a file that grows while it is read is cut at the reported size.
/// </summary>
internal static class InputFile
{
    /// <summary>The bytes of <paramref name="path"/>, at most its reported length.</summary>
    /// <exception cref="InvalidDataException">The file cannot be read, or is larger than one array holds; the message names it.</exception>
    public static byte[] ReadAllBytes(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            long length = stream.CanSeek ? stream.Length : 0;
            if (length > Array.MaxLength)
            {
                throw new InvalidDataException($"{path}: the file has {length} bytes, more than this tool reads into memory ({Array.MaxLength})");
            }

            var bytes = new byte[length];
            int got = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            return got == bytes.Length ? bytes : bytes[..got];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read: {e.Message}", e);
        }
    }
}
