using System.Security.Cryptography;
using System.Text;

namespace Learn.IO;

/// <summary>
/// Writes files so that they appear whole or not at all, and cannot be redirected: the bytes go to a new
/// temporary file in the target's folder, created exclusively (O_CREAT|O_EXCL, which also refuses to follow a
/// planted link) under an unpredictable name, flushed, then renamed over the target (rename replaces a link at
/// the target, never writes through it). The one implementation; Learn.Notebooks forwards to it.
/// </summary>
/// <remarks>
/// The rule for special files: an existing target that is not a regular file or a link (a FIFO, a character or
/// block device, a socket) is refused with an <see cref="IOException"/>, because renaming would replace it and
/// writing into it would block or vanish. Write to a regular file and copy it there.
/// </remarks>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    /// <exception cref="IOException">The target is a special file, or the folder cannot be written.</exception>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        CheckTarget(full);
        string folder = Path.GetDirectoryName(full) ?? ".";
        string temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(12))}.tmp");
        bool created = false;
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                created = true;
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
            created = false;
        }
        finally
        {
            if (created)
            {
                File.Delete(temporary);
            }
        }
    }

    /// <summary>Writes UTF-8 text (no BOM) to <paramref name="path"/> atomically.</summary>
    /// <inheritdoc cref="WriteAllBytes" path="/exception" />
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));
    }

    /// <summary>Refuses a target that is a special file (see the remarks); a missing, regular or link target is fine.</summary>
    /// <exception cref="IOException">The target is a FIFO, a device, a socket or a folder.</exception>
    public static void CheckTarget(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileKind.Kind kind = FileKind.Of(path);
        if (kind is not (FileKind.Kind.Missing or FileKind.Kind.Regular or FileKind.Kind.SymbolicLink))
        {
            string what = kind switch
            {
                FileKind.Kind.Fifo => "a FIFO",
                FileKind.Kind.CharacterDevice => "a character device",
                FileKind.Kind.BlockDevice => "a block device",
                FileKind.Kind.Socket => "a socket",
                FileKind.Kind.Directory => "a folder",
                _ => "not a regular file",
            };
            throw new IOException($"{path} is {what}; outputs are written only as regular files (write to a file and copy it there)");
        }
    }

    /// <summary>True when <paramref name="output"/> names the same file as <paramref name="input"/> (links and hard links included).</summary>
    public static bool SameFile(string output, string input)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(input);
        return FileKind.SameFile(output, input);
    }
}
