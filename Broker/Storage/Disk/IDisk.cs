namespace Shop.Broker.Storage.Disk;

/// <summary>
/// The only way the storage layer reaches files. Small on purpose: what a log needs (positional
/// reads and writes, fsync of a file and of a directory, atomic rename, truncate, delete), so that
/// <c>PhysicalDisk</c> maps it one to one onto system calls and a simulated disk in the tests can
/// model what survives a power cut: only fsynced bytes, and only directory entries whose directory
/// was fsynced.
/// </summary>
public interface IDisk
{
    /// <summary>Opens a file for reading and writing. <paramref name="mode"/>: CreateNew, Create (truncate), Open or OpenOrCreate.</summary>
    IDiskFile Open(string path, FileMode mode);

    bool FileExists(string path);

    bool DirectoryExists(string path);

    /// <summary>Creates the directory (and missing parents). Durable only once its parent is synced.</summary>
    void CreateDirectory(string path);

    /// <summary>Names (not paths) of the files directly in <paramref name="directory"/>.</summary>
    IReadOnlyList<string> FileNames(string directory);

    /// <summary>Names (not paths) of the directories directly in <paramref name="directory"/>.</summary>
    IReadOnlyList<string> DirectoryNames(string directory);

    /// <summary>Renames a file, replacing <paramref name="to"/> atomically if it exists (rename(2)).</summary>
    void Rename(string from, string to);

    /// <summary>Removes the name; open handles keep reading the file (unlink(2)).</summary>
    void DeleteFile(string path);

    /// <summary>Removes an empty directory.</summary>
    void DeleteDirectory(string path);

    /// <summary>fsync of a directory: makes the creations, renames and deletions in it durable.</summary>
    void SyncDirectory(string path);
}

/// <summary>An open file: positional I/O, no shared file pointer, so concurrent readers need no lock.</summary>
public interface IDiskFile : IDisposable
{
    string Path { get; }

    long Length { get; }

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="position"/>; fewer only at the end of the file.</summary>
    int Read(Span<byte> buffer, long position);

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="position"/> (pwrite); not durable until <see cref="Sync"/>.</summary>
    void Write(ReadOnlySpan<byte> data, long position);

    void SetLength(long length);

    /// <summary>fdatasync: everything written so far is durable when this returns; throws <see cref="IOException"/> when it is not.</summary>
    void Sync();
}

public static class DiskExtensions
{
    /// <summary>Reads exactly <c>buffer.Length</c> bytes or throws: the caller knows they are there.</summary>
    public static void ReadExactly(this IDiskFile file, Span<byte> buffer, long position)
    {
        var read = file.Read(buffer, position);
        if (read != buffer.Length)
            throw new IOException($"{file.Path}: read {read} of {buffer.Length} bytes at {position}; the file is shorter than expected");
    }

    /// <summary>Deletes every file of a directory (partition folders hold no subfolders), then the directory.</summary>
    public static void DeleteDirectoryAndFiles(this IDisk disk, string directory)
    {
        foreach (var name in disk.FileNames(directory)) disk.DeleteFile(System.IO.Path.Combine(directory, name));
        disk.DeleteDirectory(directory);
    }

    public static byte[] ReadAllBytes(this IDisk disk, string path)
    {
        using var file = disk.Open(path, FileMode.Open);
        var bytes = new byte[file.Length];
        file.ReadExactly(bytes, 0);
        return bytes;
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="contents"/> so that after a power cut it
    /// holds either the old or the new contents, whole: temp file, fsync, rename, fsync directory.
    /// </summary>
    public static void WriteAtomically(this IDisk disk, string path, ReadOnlySpan<byte> contents)
    {
        var temp = path + ".tmp";
        using (var file = disk.Open(temp, FileMode.Create))
        {
            file.Write(contents, 0);
            file.Sync();
        }
        disk.Rename(temp, path);
        disk.SyncDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
    }
}
