namespace Shop.Broker.Storage.Disk;

/// <summary>
/// The real disk with every fsync delayed (<c>Broker:TestFsyncDelayMs</c>): lets a test with real
/// clients see whether anything becomes visible before the fsync that covers it. Never for production.
/// </summary>
public sealed class SlowSyncDisk(IDisk inner, TimeSpan delay) : IDisk
{
    public IDiskFile Open(string path, FileMode mode) => new SlowFile(inner.Open(path, mode), delay);

    public bool FileExists(string path) => inner.FileExists(path);

    public bool DirectoryExists(string path) => inner.DirectoryExists(path);

    public void CreateDirectory(string path) => inner.CreateDirectory(path);

    public IReadOnlyList<string> FileNames(string directory) => inner.FileNames(directory);

    public IReadOnlyList<string> DirectoryNames(string directory) => inner.DirectoryNames(directory);

    public void Rename(string from, string to) => inner.Rename(from, to);

    public void DeleteFile(string path) => inner.DeleteFile(path);

    public void DeleteDirectory(string path) => inner.DeleteDirectory(path);

    public void SyncDirectory(string path)
    {
        Thread.Sleep(delay);
        inner.SyncDirectory(path);
    }

    private sealed class SlowFile(IDiskFile file, TimeSpan delay) : IDiskFile
    {
        public string Path => file.Path;

        public long Length => file.Length;

        public int Read(Span<byte> buffer, long position) => file.Read(buffer, position);

        public void Write(ReadOnlySpan<byte> data, long position) => file.Write(data, position);

        public void SetLength(long length) => file.SetLength(length);

        public void Sync()
        {
            Thread.Sleep(delay);
            file.Sync();
        }

        public void Dispose() => file.Dispose();
    }
}
