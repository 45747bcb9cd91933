namespace Learn.Notebooks.Format;

/// <summary>Whole-file writes that either happen completely or not at all: <see cref="Learn.IO.AtomicFile"/>, after creating the folder.</summary>
public static class AtomicFile
{
    /// <summary>Writes UTF-8 text (no BOM) through <see cref="Learn.IO.AtomicFile.WriteAllText"/> (exclusive, unpredictable temporary; special files refused), creating the folder first.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Learn.IO.AtomicFile.WriteAllText(path, text);
    }
}
