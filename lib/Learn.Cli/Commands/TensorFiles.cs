using Learn.Cli.CommandLine;
using Learn.IO;
using Learn.Tensors;

namespace Learn.Cli.Commands;

/// <summary>Reading and writing the .npy files named on the command line, with errors that name the file.</summary>
internal static class TensorFiles
{
    /// <summary>Reads an .npy file; a missing file or a folder is a data failure naming the path.</summary>
    public static Tensor Read(string path)
    {
        if (Directory.Exists(path))
        {
            throw CliError.Failure(path, "is a folder, expected an .npy file");
        }

        if (!File.Exists(path))
        {
            throw CliError.Failure(path, "no such file");
        }

        return Npy.Read(path); // InvalidDataException("PATH: problem") for anything malformed
    }

    /// <summary>
    /// Checks that an output can be written there, before any work is done: the path is not a folder, a FIFO or
    /// a device (see <see cref="AtomicFile"/>'s rule), its folder exists, and it is none of
    /// <paramref name="inputs"/> (by path or, through links, by file). Nothing is created.
    /// </summary>
    public static void CheckOutput(string path, params string?[] inputs)
    {
        if (Directory.Exists(path))
        {
            throw CliError.Failure(path, "is a folder, expected a file name for the output");
        }

        try
        {
            AtomicFile.CheckTarget(path);
        }
        catch (IOException e)
        {
            throw CliError.Failure(path, $"cannot write: {Cli.OneLine(e)}");
        }

        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder))
        {
            throw CliError.Failure(path, $"cannot write: folder '{folder}' does not exist");
        }

        foreach (string? input in inputs)
        {
            if (input is not null && AtomicFile.SameFile(path, input))
            {
                throw CliError.Usage(path, $"is also an input ({input}); write the output to another file");
            }
        }
    }

    /// <summary>Writes the result atomically (whole or not at all).</summary>
    public static void Write(string path, Tensor tensor)
    {
        try
        {
            Npy.Write(path, tensor);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliError.Failure(path, $"cannot write: {Cli.OneLine(e)}");
        }
    }
}
