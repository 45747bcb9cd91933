using System.Runtime.InteropServices;

namespace Learn.IO;

/// <summary>What a path names, read with lstat(2) (links not followed), and the file identity stat(2) gives.</summary>
/// <remarks>
/// .NET has no portable way to tell a FIFO or a device from a regular file, nor to compare two paths by inode,
/// so this reads <c>struct stat</c> from libc on Linux x64 and arm64 (the glibc/musl layouts: st_dev at 0,
/// st_ino at 8, st_mode at 24 on x64 and at 16 on arm64). Elsewhere it reports <see cref="Kind.Unknown"/> and
/// no identity, and callers fall back to path comparison.
/// </remarks>
internal static partial class FileKind
{
    public enum Kind
    {
        Missing,
        Regular,
        Directory,
        SymbolicLink,
        Fifo,
        CharacterDevice,
        BlockDevice,
        Socket,
        Unknown,
    }

    private static readonly int ModeOffset = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 24,
        Architecture.Arm64 => 16,
        _ => -1,
    };

    private static bool Supported => OperatingSystem.IsLinux() && ModeOffset >= 0;

    /// <summary>The kind of <paramref name="path"/> itself (a link is reported as a link).</summary>
    public static Kind Of(string path)
    {
        if (!Supported)
        {
            return File.Exists(path) ? Kind.Regular : Directory.Exists(path) ? Kind.Directory : Kind.Missing;
        }

        Span<byte> buffer = stackalloc byte[256];
        if (LStat(path, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            return Kind.Missing;
        }

        uint mode = BitConverter.ToUInt32(buffer.Slice(ModeOffset, 4)) & 0xF000;
        return mode switch
        {
            0x8000 => Kind.Regular,
            0x4000 => Kind.Directory,
            0xA000 => Kind.SymbolicLink,
            0x1000 => Kind.Fifo,
            0x2000 => Kind.CharacterDevice,
            0x6000 => Kind.BlockDevice,
            0xC000 => Kind.Socket,
            _ => Kind.Unknown,
        };
    }

    /// <summary>True when the two paths name the same file (links followed; same device and inode), or, where that cannot be read, the same full path.</summary>
    public static bool SameFile(string a, string b)
    {
        if (string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal))
        {
            return true;
        }

        if (!Supported)
        {
            return false;
        }

        Span<byte> x = stackalloc byte[256], y = stackalloc byte[256];
        return Stat(a, ref MemoryMarshal.GetReference(x)) == 0 && Stat(b, ref MemoryMarshal.GetReference(y)) == 0
            && x[..16].SequenceEqual(y[..16]);
    }

    [LibraryImport("libc", EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LStat(string path, ref byte buffer);

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, ref byte buffer);
}
