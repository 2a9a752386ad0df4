using Microsoft.Win32.SafeHandles;
using Shop.Broker.Protocol;

namespace Shop.Broker.Storage;

/// <summary>
/// One <c>&lt;20-digit base offset&gt;.log</c> file of batches stored verbatim, with its sparse indexes.
/// One writer at a time (the partition's append lock); readers see only bytes below <see cref="Size"/>,
/// which is published after each write.
/// </summary>
internal sealed class LogSegment : IDisposable
{
    private readonly SafeFileHandle _log;
    private readonly SegmentIndex _index;
    private long _size;

    private LogSegment(string directory, long baseOffset, SafeFileHandle log, SegmentIndex index, long size, long nextOffset, long maxTimestamp)
    {
        Directory = directory;
        BaseOffset = baseOffset;
        _log = log;
        _index = index;
        _size = size;
        NextOffset = nextOffset;
        MaxTimestamp = maxTimestamp;
        CreatedAt = File.GetCreationTimeUtc(LogPath(directory, baseOffset));
    }

    public string Directory { get; }

    public long BaseOffset { get; }

    /// <summary>Committed bytes: everything below is whole, valid batches.</summary>
    public long Size => Volatile.Read(ref _size);

    /// <summary>One past the last offset in this segment.</summary>
    public long NextOffset { get; private set; }

    public long MaxTimestamp { get; private set; }

    public DateTime CreatedAt { get; }

    public static string FileStem(long baseOffset) => baseOffset.ToString("D20");

    public static string LogPath(string directory, long baseOffset) => Path.Combine(directory, FileStem(baseOffset) + ".log");

    private static string IndexPath(string directory, long baseOffset) => Path.Combine(directory, FileStem(baseOffset) + ".index");

    private static string TimeIndexPath(string directory, long baseOffset) => Path.Combine(directory, FileStem(baseOffset) + ".timeindex");

    public static LogSegment Create(string directory, long baseOffset)
    {
        var log = File.OpenHandle(LogPath(directory, baseOffset), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
        var index = SegmentIndex.CreateEmpty(IndexPath(directory, baseOffset), TimeIndexPath(directory, baseOffset));
        return new LogSegment(directory, baseOffset, log, index, 0, baseOffset, -1);
    }

    /// <summary>
    /// Opens an existing segment. With <paramref name="validate"/> every batch is checked (length,
    /// magic, CRC, contiguous offsets) and a torn or corrupt tail is cut off; the indexes are rebuilt.
    /// Without it the index files are trusted when consistent, and only the batch headers after the
    /// last index entry are read.
    /// </summary>
    public static LogSegment Open(string directory, long baseOffset, bool validate, ILogger logger)
    {
        var path = LogPath(directory, baseOffset);
        var log = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        var fileSize = RandomAccess.GetLength(log);
        var index = validate ? null : SegmentIndex.TryLoad(IndexPath(directory, baseOffset), TimeIndexPath(directory, baseOffset), fileSize);
        if (index is null)
        {
            if (!validate) logger.LogWarning("Index of {Segment} missing or inconsistent: rebuilding it from the log", path);
            index = SegmentIndex.CreateEmpty(IndexPath(directory, baseOffset), TimeIndexPath(directory, baseOffset));
            var (validSize, nextOffset, maxTimestamp, problem) = Scan(log, baseOffset, 0, fileSize, checkCrc: true, index);
            if (validSize < fileSize)
            {
                logger.LogWarning("Recovered {Segment}: cut {Bytes} bytes after offset {NextOffset} ({Problem})",
                    path, fileSize - validSize, nextOffset, problem);
                RandomAccess.SetLength(log, validSize);
                RandomAccess.FlushToDisk(log);
            }
            index.Flush();
            return new LogSegment(directory, baseOffset, log, index, validSize, nextOffset, maxTimestamp);
        }
        else
        {
            var start = index.FloorPosition(long.MaxValue);
            var (validSize, nextOffset, maxTimestamp, problem) = Scan(log, baseOffset, start, fileSize, checkCrc: false, index: null);
            if (validSize < fileSize)
            {
                // A clean shutdown left this segment whole; if not, trust the check over the marker.
                index.Dispose();
                log.Dispose();
                logger.LogWarning("Segment {Segment} is not whole ({Problem}) despite a clean shutdown: validating it", path, problem);
                return Open(directory, baseOffset, validate: true, logger);
            }
            return new LogSegment(directory, baseOffset, log, index, validSize, nextOffset, maxTimestamp);
        }
    }

    /// <summary>Walks batches from <paramref name="position"/>; stops at the first that is incomplete or invalid.</summary>
    private static (long ValidSize, long NextOffset, long MaxTimestamp, string? Problem) Scan(
        SafeFileHandle log, long baseOffset, long position, long fileSize, bool checkCrc, SegmentIndex? index)
    {
        var nextOffset = baseOffset;
        var maxTimestamp = -1L;
        var header = new byte[RecordBatch.HeaderSize];
        byte[] buffer = [];
        var first = true;
        while (position < fileSize)
        {
            if (fileSize - position < RecordBatch.HeaderSize) return (position, nextOffset, maxTimestamp, "torn batch header at the end");
            RandomAccess.Read(log, header, position);
            var h = RecordBatch.ReadHeader(header);
            if (h.BatchLength < RecordBatch.HeaderSize - RecordBatch.LogOverhead || position + h.TotalSize > fileSize)
                return (position, nextOffset, maxTimestamp, $"batch at byte {position} claims {h.BatchLength} bytes, {fileSize - position - RecordBatch.LogOverhead} remain");
            // Offsets only grow (compaction leaves gaps); a scan that starts mid-segment learns the first one.
            if ((!first || position == 0) && h.BaseOffset < nextOffset)
                return (position, nextOffset, maxTimestamp, $"batch at byte {position} has offset {h.BaseOffset}, below {nextOffset}");
            if (checkCrc)
            {
                if (buffer.Length < h.TotalSize) buffer = new byte[Math.Max(h.TotalSize, buffer.Length * 2)];
                RandomAccess.Read(log, buffer.AsSpan(0, h.TotalSize), position);
                var error = RecordBatch.Check(buffer.AsSpan(0, h.TotalSize), out _, allowCompacted: true);
                if (error is not null) return (position, nextOffset, maxTimestamp, $"batch at byte {position}: {error}");
            }
            index?.MaybeAdd((int)(h.BaseOffset - baseOffset), position, h.MaxTimestamp);
            nextOffset = h.LastOffset + 1;
            maxTimestamp = Math.Max(maxTimestamp, h.MaxTimestamp);
            position += h.TotalSize;
            first = false;
        }
        return (position, nextOffset, maxTimestamp, null);
    }

    /// <summary>Appends batches whose base offsets are already assigned; <paramref name="headers"/> describe them in order.</summary>
    public void Append(ReadOnlySpan<byte> batches, IReadOnlyList<RecordBatchHeader> headers)
    {
        var position = _size;
        RandomAccess.Write(_log, batches, position);
        foreach (var h in headers)
        {
            _index.MaybeAdd((int)(h.BaseOffset - BaseOffset), position, h.MaxTimestamp);
            position += h.TotalSize;
            MaxTimestamp = Math.Max(MaxTimestamp, h.MaxTimestamp);
        }
        NextOffset = headers[^1].LastOffset + 1;
        Volatile.Write(ref _size, position);
    }

    /// <summary>
    /// Whole batches below <paramref name="endOffset"/> from the one containing <paramref name="offset"/>, up to <paramref name="maxBytes"/>
    /// but at least one batch. Empty when the segment holds nothing at or after the offset.
    /// </summary>
    public byte[] Read(long offset, int maxBytes, long endOffset)
    {
        var size = Size;
        var position = _index.FloorPosition(offset - BaseOffset);
        Span<byte> header = stackalloc byte[RecordBatch.HeaderSize];
        while (position < size)
        {
            RandomAccess.Read(_log, header, position);
            var h = RecordBatch.ReadHeader(header);
            if (h.LastOffset >= offset) break;
            position += h.TotalSize;
        }
        var start = position;
        while (position < size)
        {
            RandomAccess.Read(_log, header, position);
            var h = RecordBatch.ReadHeader(header);
            // A batch appended after the caller read the log end offset is left for the next read.
            if (h.BaseOffset >= endOffset) break;
            if (position > start && position - start + h.TotalSize > maxBytes) break;
            position += h.TotalSize;
        }
        var result = new byte[position - start];
        RandomAccess.Read(_log, result, start);
        return result;
    }

    /// <summary>The first batch whose max timestamp is ≥ <paramref name="timestamp"/>, if any.</summary>
    public (long Offset, long Timestamp)? FindByTimestamp(long timestamp)
    {
        if (MaxTimestamp < timestamp) return null;
        var size = Size;
        var position = _index.FloorPositionForTimestamp(timestamp);
        Span<byte> header = stackalloc byte[RecordBatch.HeaderSize];
        while (position < size)
        {
            RandomAccess.Read(_log, header, position);
            var h = RecordBatch.ReadHeader(header);
            if (h.MaxTimestamp >= timestamp) return (h.BaseOffset, h.MaxTimestamp);
            position += h.TotalSize;
        }
        return null;
    }

    /// <summary>Every batch of the segment, whole, in order (compaction reads them).</summary>
    public IEnumerable<byte[]> Batches()
    {
        var size = Size;
        var header = new byte[RecordBatch.HeaderSize];
        for (long position = 0; position < size;)
        {
            RandomAccess.Read(_log, header, position);
            var batch = new byte[RecordBatch.ReadHeader(header).TotalSize];
            RandomAccess.Read(_log, batch, position);
            yield return batch;
            position += batch.Length;
        }
    }

    /// <summary>
    /// Replaces this segment's log with <paramref name="cleanedPath"/> (written beside it) and
    /// reopens it with fresh indexes. The caller swaps the returned segment in.
    /// </summary>
    public LogSegment ReplaceWith(string cleanedPath, ILogger logger)
    {
        Dispose();
        File.Move(cleanedPath, LogPath(Directory, BaseOffset), overwrite: true);
        File.Delete(IndexPath(Directory, BaseOffset));
        File.Delete(TimeIndexPath(Directory, BaseOffset));
        return Open(Directory, BaseOffset, validate: true, logger);
    }

    /// <summary>Every batch header of the segment, in order: rebuilds producer state after a crash.</summary>
    public IEnumerable<RecordBatchHeader> BatchHeaders()
    {
        var size = Size;
        var header = new byte[RecordBatch.HeaderSize];
        for (long position = 0; position < size;)
        {
            RandomAccess.Read(_log, header, position);
            var h = RecordBatch.ReadHeader(header);
            yield return h;
            position += h.TotalSize;
        }
    }

    /// <summary>fdatasync of the log: what a durable acknowledgement waits for.</summary>
    public void Flush() => RandomAccess.FlushToDisk(_log);

    public void FlushIndexes() => _index.Flush();

    public void Dispose()
    {
        _index.Dispose();
        _log.Dispose();
    }

    public void Delete()
    {
        Dispose();
        File.Delete(LogPath(Directory, BaseOffset));
        File.Delete(IndexPath(Directory, BaseOffset));
        File.Delete(TimeIndexPath(Directory, BaseOffset));
    }
}
