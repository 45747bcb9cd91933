namespace Learn.IO;

/// <summary>
/// Loads weights from any file people have: torch.save (zip or legacy, see <see cref="TorchCheckpoint"/>)
/// or safetensors (see <see cref="SafeTensors"/>), told apart by their first bytes, not by the extension.
/// The result is <see cref="StateDict.Normalized"/> either way.
/// </summary>
public static class Checkpoint
{
    /// <summary>Loads the normalized state_dict of a .pth/.pt/.safetensors file.</summary>
    /// <exception cref="InvalidDataException">The file is unreadable, malformed, refused, or in none of the formats; the message names it.</exception>
    public static StateDict Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Span<byte> head = stackalloc byte[9];
        int got;
        try
        {
            using FileStream stream = File.OpenRead(path);
            got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read: {e.Message}", e);
        }

        // safetensors: an 8-byte header length, then '{'. Tested first: the length's low byte can be anything,
        // including 0x80 or 'P', while byte 8 of a zip (compression method) or a legacy pickle (magic) is never '{'.
        if (got == 9 && head[8] == (byte)'{')
        {
            try
            {
                return SafeTensors.Read(path).Normalized();
            }
            catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{path}: {e.Message}", e);
            }
        }

        // torch.save: a zip ("PK\x03\x04") or a legacy pickle (PROTO, 0x80; with pickle_protocol=1 the magic number's LONG, 'L').
        if (got >= 4 && (head[0] is 0x80 or (byte)'L' || head[..4].SequenceEqual("PK\x03\x04"u8)))
        {
            return TorchCheckpoint.Load(path);
        }

        throw new InvalidDataException($"{path}: neither a torch.save checkpoint (zip or legacy pickle) nor a safetensors file");
    }
}
