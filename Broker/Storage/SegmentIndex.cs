using System.Buffers.Binary;
using Shop.Broker.Storage.Disk;

namespace Shop.Broker.Storage;

/// <summary>
/// A segment's sparse indexes, in Kafka's file formats: <c>.index</c> holds (relative offset int32,
/// position int32) and <c>.timeindex</c> (timestamp int64, relative offset int32), one entry every
/// <see cref="IndexIntervalBytes"/> of log. Kept in memory and appended to the files; the files are
/// a cache: recovery rebuilds them from the log when they are missing or inconsistent. Once the
/// segment is no longer written the files are synced and closed (<see cref="Seal"/>): lookups need
/// only the memory, and a broker with thousands of segments keeps one file open for each, not three.
/// </summary>
internal sealed class SegmentIndex : IDisposable
{
    public const int IndexIntervalBytes = 4096;
    private const int OffsetEntrySize = 8;
    private const int TimeEntrySize = 12;

    private readonly List<(int RelativeOffset, int Position)> _offsets = [];
    private readonly List<(long Timestamp, int RelativeOffset)> _times = [];
    private readonly IDiskFile _offsetFile;
    private readonly IDiskFile _timeFile;
    private readonly Lock _files = new();
    private long _lastIndexedPosition = -IndexIntervalBytes;
    private long _maxTimestampIndexed = long.MinValue;
    private bool _dirty; // written since the last sync
    private bool _sealed; // the files are closed

    private SegmentIndex(IDiskFile offsetFile, IDiskFile timeFile)
    {
        _offsetFile = offsetFile;
        _timeFile = timeFile;
    }

    public int EntryCount { get { lock (_offsets) return _offsets.Count; } }

    /// <summary>Opens the files empty, to be filled by <see cref="MaybeAdd"/> (new segment or rebuild).</summary>
    /// <remarks>Dirty from the start: <see cref="FileMode.Create"/> may have truncated old files, which the next <see cref="Flush"/> must make durable too.</remarks>
    public static SegmentIndex CreateEmpty(IDisk disk, string offsetPath, string timePath) =>
        new(disk.Open(offsetPath, FileMode.Create), disk.Open(timePath, FileMode.Create)) { _dirty = true };

    /// <summary>Loads existing files; null when they are missing or not consistent with a log of <paramref name="logSize"/> bytes.</summary>
    public static SegmentIndex? TryLoad(IDisk disk, string offsetPath, string timePath, long logSize)
    {
        if (!disk.FileExists(offsetPath) || !disk.FileExists(timePath)) return null;
        var offsetBytes = disk.ReadAllBytes(offsetPath);
        var timeBytes = disk.ReadAllBytes(timePath);
        if (offsetBytes.Length % OffsetEntrySize != 0 || timeBytes.Length % TimeEntrySize != 0) return null;
        var index = new SegmentIndex(disk.Open(offsetPath, FileMode.Open), disk.Open(timePath, FileMode.Open));
        int lastRelative = -1, lastPosition = -1;
        for (var i = 0; i < offsetBytes.Length; i += OffsetEntrySize)
        {
            var relative = BinaryPrimitives.ReadInt32BigEndian(offsetBytes.AsSpan(i));
            var position = BinaryPrimitives.ReadInt32BigEndian(offsetBytes.AsSpan(i + 4));
            if (relative <= lastRelative || position <= lastPosition || position >= logSize) { index.Dispose(); return null; }
            index._offsets.Add((relative, position));
            (lastRelative, lastPosition) = (relative, position);
        }
        for (var i = 0; i < timeBytes.Length; i += TimeEntrySize)
        {
            var timestamp = BinaryPrimitives.ReadInt64BigEndian(timeBytes.AsSpan(i));
            var relative = BinaryPrimitives.ReadInt32BigEndian(timeBytes.AsSpan(i + 8));
            index._times.Add((timestamp, relative));
            index._maxTimestampIndexed = Math.Max(index._maxTimestampIndexed, timestamp);
        }
        if (lastPosition >= 0) index._lastIndexedPosition = lastPosition;
        return index;
    }

    /// <summary>Indexes the batch at <paramref name="position"/> if the last entry is far enough behind.</summary>
    public void MaybeAdd(int relativeOffset, long position, long maxTimestamp)
    {
        if (position - _lastIndexedPosition < IndexIntervalBytes) return;
        Span<byte> entry = stackalloc byte[TimeEntrySize];
        lock (_offsets)
        {
            _offsets.Add((relativeOffset, (int)position));
        }
        lock (_files)
        {
            // Only the segment being written (or rebuilt) adds entries, and its files are open.
            if (_sealed) throw new InvalidOperationException("an entry was added to a sealed segment index");
            BinaryPrimitives.WriteInt32BigEndian(entry, relativeOffset);
            BinaryPrimitives.WriteInt32BigEndian(entry[4..], (int)position);
            _offsetFile.Write(entry[..OffsetEntrySize], (long)(_offsets.Count - 1) * OffsetEntrySize);
            _lastIndexedPosition = position;
            _dirty = true;
            if (maxTimestamp > _maxTimestampIndexed)
            {
                lock (_offsets) _times.Add((maxTimestamp, relativeOffset));
                BinaryPrimitives.WriteInt64BigEndian(entry, maxTimestamp);
                BinaryPrimitives.WriteInt32BigEndian(entry[8..], relativeOffset);
                _timeFile.Write(entry, (long)(_times.Count - 1) * TimeEntrySize);
                _maxTimestampIndexed = maxTimestamp;
            }
        }
    }

    /// <summary>Position of the last indexed batch starting at or before <paramref name="relativeOffset"/> (0 if none).</summary>
    public long FloorPosition(long relativeOffset)
    {
        lock (_offsets)
        {
            int lo = 0, hi = _offsets.Count - 1, found = -1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                if (_offsets[mid].RelativeOffset <= relativeOffset) { found = mid; lo = mid + 1; } else hi = mid - 1;
            }
            return found < 0 ? 0 : _offsets[found].Position;
        }
    }

    /// <summary>Relative offset from which to scan for the first timestamp ≥ <paramref name="timestamp"/>.</summary>
    public long FloorPositionForTimestamp(long timestamp)
    {
        lock (_offsets)
        {
            // The last entry whose timestamp is below the target: everything before it is older.
            var relative = -1;
            foreach (var (ts, rel) in _times)
            {
                if (ts >= timestamp) break;
                relative = rel;
            }
            return relative < 0 ? 0 : FloorPosition(relative);
        }
    }

    /// <summary>fsyncs the files if anything was written to them since the last time; nothing once sealed (they were synced then).</summary>
    public void Flush()
    {
        lock (_files)
        {
            if (_sealed || !_dirty) return;
            _offsetFile.Sync();
            _timeFile.Sync();
            _dirty = false;
        }
    }

    /// <summary>The segment is no longer written: syncs what is unsynced and closes the files; lookups go on from memory.</summary>
    public void Seal()
    {
        Flush();
        Dispose();
    }

    public void Dispose()
    {
        lock (_files)
        {
            if (_sealed) return;
            _sealed = true;
            _offsetFile.Dispose();
            _timeFile.Dispose();
        }
    }
}
