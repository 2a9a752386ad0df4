using Shop.Broker.Storage.Disk;

namespace Shop.Broker.Tests.Storage;

/// <summary>
/// A disk in memory that knows, per file, which bytes are durable and which are only in the page
/// cache, and, per directory, which entries are durable. <see cref="PowerCut"/> keeps only what is
/// durable, plus a random prefix of what was not (a torn last write, some of the directory changes
/// in the order they were made, as a journaling file system commits them). <see cref="Crash"/> is a
/// process crash: everything written stays. Faults: an fsync or a write can be failed on command; a
/// failed fsync drops the pending pages, as Linux does, so they never become durable.
/// Single-threaded by design: the simulation drives it from one thread.
/// </summary>
public sealed class SimulatedDisk : IDisk
{
    private sealed class FileNode
    {
        public byte[] Data = [];
        public int Length;
        public byte[] Durable = [];
        public readonly List<(long Position, byte[]? Bytes, long NewLength)> Pending = [];

        public void Apply(long position, ReadOnlySpan<byte> bytes)
        {
            var end = (int)position + bytes.Length;
            if (end > Data.Length) Array.Resize(ref Data, Math.Max(end, Data.Length * 2));
            if (position > Length) Array.Clear(Data, Length, (int)position - Length);
            bytes.CopyTo(Data.AsSpan((int)position));
            Length = Math.Max(Length, end);
        }

        /// <summary>The durable bytes with the first <paramref name="count"/> pending changes applied, the last one cut to <paramref name="lastTornTo"/> bytes if given.</summary>
        public byte[] DurableAfter(int count, int? lastTornTo)
        {
            var image = new FileNode();
            image.Apply(0, Durable);
            for (var i = 0; i < count; i++)
            {
                var (position, bytes, newLength) = Pending[i];
                if (bytes is null) image.Truncate(newLength);
                else image.Apply(position, bytes.AsSpan(0, i == count - 1 && lastTornTo is { } torn ? Math.Min(torn, bytes.Length) : bytes.Length));
            }
            return image.Data.AsSpan(0, image.Length).ToArray();
        }

        public void Truncate(long length)
        {
            if (length > Data.Length) Array.Resize(ref Data, (int)length);
            if (length > Length) Array.Clear(Data, Length, (int)length - Length);
            Length = (int)length;
        }
    }

    private sealed class DirectoryNode;

    private readonly Dictionary<string, object> _current = new(StringComparer.Ordinal);
    private readonly Dictionary<string, object> _durable = new(StringComparer.Ordinal);
    private readonly List<(string Path, object? Node)> _pendingEntries = [];
    private int _epoch;
    private int? _operationsUntilPowerLoss;

    public SimulatedDisk(string root)
    {
        Root = Normalize(root);
        _current[Root] = _durable[Root] = new DirectoryNode();
    }

    public string Root { get; }

    /// <summary>Called before each fsync (file or directory) and write with the path: return an exception to fail it.</summary>
    public Func<string, string, IOException?>? Fault { get; set; }

    public int SyncCount { get; private set; }

    /// <summary>Power is lost: every operation fails until <see cref="PowerCut"/> brings the machine back.</summary>
    public bool PowerLost { get; private set; }

    /// <summary>Loses power after <paramref name="operations"/> more changes (writes, syncs, directory changes): a cut in the middle of whatever runs then.</summary>
    public void LosePowerAfter(int operations) => _operationsUntilPowerLoss = operations;

    private void BeforeChange()
    {
        if (_operationsUntilPowerLoss is { } left)
        {
            _operationsUntilPowerLoss = left - 1;
            if (left <= 1)
            {
                _operationsUntilPowerLoss = null;
                PowerLost = true;
            }
        }
        ThrowIfPowerLost();
    }

    private void ThrowIfPowerLost()
    {
        if (PowerLost) throw new IOException("simulated power loss");
    }

    private static string Normalize(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    private static string Parent(string path) => Path.GetDirectoryName(path)!;

    private void SetEntry(string path, object? node)
    {
        BeforeChange();
        if (node is null) _current.Remove(path); else _current[path] = node;
        _pendingEntries.Add((path, node));
    }

    private FileNode FileAt(string path) =>
        _current.TryGetValue(Normalize(path), out var node) && node is FileNode file ? file : throw new FileNotFoundException($"no such file: {path}", path);

    private void RequireDirectory(string path)
    {
        if (!(_current.TryGetValue(path, out var node) && node is DirectoryNode)) throw new DirectoryNotFoundException($"no such directory: {path}");
    }

    public IDiskFile Open(string path, FileMode mode)
    {
        ThrowIfPowerLost();
        var full = Normalize(path);
        RequireDirectory(Parent(full));
        _current.TryGetValue(full, out var existing);
        if (existing is DirectoryNode) throw new UnauthorizedAccessException($"{path} is a directory");
        var file = existing as FileNode;
        switch (mode)
        {
            case FileMode.CreateNew when file is not null:
                throw new IOException($"file exists: {path}");
            case FileMode.Open when file is null:
                throw new FileNotFoundException($"no such file: {path}", path);
            case FileMode.Create when file is not null:
                BeforeChange();
                file.Truncate(0);
                file.Pending.Add((0, null, 0));
                break;
        }
        if (file is null)
        {
            file = new FileNode();
            SetEntry(full, file);
        }
        return new SimulatedFile(this, full, file, _epoch);
    }

    public bool FileExists(string path) => _current.TryGetValue(Normalize(path), out var node) && node is FileNode;

    public bool DirectoryExists(string path) => _current.TryGetValue(Normalize(path), out var node) && node is DirectoryNode;

    public void CreateDirectory(string path)
    {
        var full = Normalize(path);
        if (_current.TryGetValue(full, out var node))
        {
            if (node is FileNode) throw new IOException($"{path} is a file");
            return;
        }
        CreateDirectory(Parent(full));
        SetEntry(full, new DirectoryNode());
    }

    public IReadOnlyList<string> FileNames(string directory) => Children(directory, n => n is FileNode);

    public IReadOnlyList<string> DirectoryNames(string directory) => Children(directory, n => n is DirectoryNode);

    private List<string> Children(string directory, Func<object, bool> kind)
    {
        var full = Normalize(directory);
        RequireDirectory(full);
        return _current.Where(e => Parent(e.Key) == full && e.Key != full && kind(e.Value))
            .Select(e => Path.GetFileName(e.Key)).Order(StringComparer.Ordinal).ToList();
    }

    public void Rename(string from, string to)
    {
        var source = Normalize(from);
        var target = Normalize(to);
        var file = FileAt(source);
        RequireDirectory(Parent(target));
        SetEntry(source, null);
        SetEntry(target, file);
    }

    public void DeleteFile(string path)
    {
        FileAt(path);
        SetEntry(Normalize(path), null);
    }

    public void DeleteDirectory(string path)
    {
        var full = Normalize(path);
        RequireDirectory(full);
        if (_current.Keys.Any(k => k != full && Parent(k) == full)) throw new IOException($"directory not empty: {path}");
        SetEntry(full, null);
    }

    public void SyncDirectory(string path)
    {
        var full = Normalize(path);
        RequireDirectory(full);
        BeforeChange();
        if (Fault?.Invoke("fsync", full) is { } fault) throw fault;
        SyncCount++;
        // The directory's entries become durable in the order they were changed.
        for (var i = 0; i < _pendingEntries.Count; i++)
        {
            var (entry, node) = _pendingEntries[i];
            if (Parent(entry) != full) continue;
            if (node is null) _durable.Remove(entry); else _durable[entry] = node;
            _pendingEntries.RemoveAt(i--);
        }
    }

    /// <summary>The process died (kill -9): files keep everything written; open handles are gone.</summary>
    public void Crash()
    {
        _epoch++;
        _operationsUntilPowerLoss = null;
    }

    /// <summary>
    /// The machine lost power: each file keeps its durable bytes and, when <paramref name="random"/>
    /// says so, a prefix of its later writes (the last one possibly torn); directories keep their
    /// durable entries and a prefix of the later changes. Entries in directories that did not
    /// survive are gone. Open handles are gone.
    /// </summary>
    public void PowerCut(Random random)
    {
        _epoch++;
        PowerLost = false;
        _operationsUntilPowerLoss = null;
        var keptEntries = random.Next(_pendingEntries.Count + 1);
        foreach (var (entry, node) in _pendingEntries.Take(keptEntries))
        {
            if (node is null) _durable.Remove(entry); else _durable[entry] = node;
        }
        _pendingEntries.Clear();
        _current.Clear();
        foreach (var (entry, node) in _durable.OrderBy(e => e.Key.Length))
        {
            if (entry == Root || _current.TryGetValue(Parent(entry), out var parent) && parent is DirectoryNode) _current[entry] = node;
        }
        _durable.Clear();
        foreach (var (entry, node) in _current) _durable[entry] = node;
        foreach (var file in _current.Values.OfType<FileNode>().Distinct()) LosePageCache(file, random);
    }

    private static void LosePageCache(FileNode file, Random random)
    {
        var kept = random.Next(file.Pending.Count + 1);
        // The last write that reached the disk may have reached it only in part.
        var torn = kept > 0 && file.Pending[kept - 1].Bytes is { } last ? random.Next(last.Length + 1) : (int?)null;
        var survived = file.DurableAfter(kept, torn);
        file.Pending.Clear();
        file.Durable = survived;
        file.Data = [.. survived];
        file.Length = survived.Length;
    }

    /// <summary>What a file holds now (page cache included), for assertions.</summary>
    public byte[] Contents(string path)
    {
        var file = FileAt(path);
        return file.Data.AsSpan(0, file.Length).ToArray();
    }

    private sealed class SimulatedFile(SimulatedDisk disk, string path, FileNode node, int epoch) : IDiskFile
    {
        private bool _disposed;

        public string Path { get; } = path;

        public long Length { get { Check(); return node.Length; } }

        private void Check()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            disk.ThrowIfPowerLost();
            if (epoch != disk._epoch) throw new IOException($"{Path}: the handle was lost in a crash");
        }

        public int Read(Span<byte> buffer, long position)
        {
            Check();
            if (position >= node.Length) return 0;
            var count = (int)Math.Min(buffer.Length, node.Length - position);
            node.Data.AsSpan((int)position, count).CopyTo(buffer);
            return count;
        }

        public void Write(ReadOnlySpan<byte> data, long position)
        {
            Check();
            disk.BeforeChange();
            if (disk.Fault?.Invoke("write", Path) is { } fault) throw fault;
            node.Apply(position, data);
            node.Pending.Add((position, data.ToArray(), 0));
        }

        public void SetLength(long length)
        {
            Check();
            disk.BeforeChange();
            node.Truncate(length);
            node.Pending.Add((0, null, length));
        }

        public void Sync()
        {
            Check();
            disk.BeforeChange();
            if (disk.Fault?.Invoke("fsync", Path) is { } fault)
            {
                // Linux marks the dirty pages clean after a failed writeback: they will never be written.
                node.Pending.Clear();
                throw fault;
            }
            disk.SyncCount++;
            // Only the writes still pending reach the disk: those dropped by a failed fsync never do.
            node.Durable = node.DurableAfter(node.Pending.Count, lastTornTo: null);
            node.Pending.Clear();
        }

        public void Dispose() => _disposed = true;
    }
}
