using Shop.Broker.Protocol;
using Shop.Broker.Storage.Disk;

namespace Shop.Broker.Storage;

/// <summary>
/// One partition's log: segments of record batches stored verbatim (magic 2), with offsets
/// assigned by rewriting each batch's base offset. Appends are serialized; reads run concurrently
/// and see only whole batches below the high watermark. Under <c>FlushPolicy=always</c> the high
/// watermark is the fsynced offset: every append schedules a group commit, and a record becomes
/// visible to consumers once an fsync covers it, so nothing a consumer sees can be taken back by
/// a power cut. Retention and compaction live in <see cref="LogRetention"/> and <see cref="LogCleaner"/>.
/// </summary>
public sealed class PartitionLog
{
    /// <summary>
    /// The leader epoch of every partition: one node leads it forever, so the epoch never changes.
    /// Stamped on every appended batch; clients commit it with their position and check it with
    /// OffsetForLeaderEpoch to detect a log cut back under them.
    /// </summary>
    public const int LeaderEpoch = 0;

    private readonly Lock _appendLock = new();
    private readonly LogContext _context;
    private readonly Func<TopicSettings> _settings;
    private readonly GroupCommit _groupCommit;
    private readonly ProducerStateTable _producers = new();
    private readonly ILogger _logger;
    private volatile LogSegment[] _segments;
    private long _logEndOffset;
    private int _directoryDirty;
    private volatile string? _storageError;
    private long _deletedBefore;
    private volatile bool _closed;
    private TaskCompletionSource _dataArrived;
    private readonly FillAheadPolicy _fillAhead;

    internal PartitionLog(LogContext context, string topic, int partition, string directory, Func<TopicSettings> settings, bool cleanShutdown)
    {
        Topic = topic;
        Partition = partition;
        Directory = directory;
        _context = context;
        _settings = settings;
        _logger = context.LoggerFactory.CreateLogger<PartitionLog>();
        _dataArrived = context.Scheduler.NewCompletionSource();
        context.Disk.CreateDirectory(directory);
        _segments = OpenSegments(cleanShutdown);
        CutBackAfterStorageError();
        _deletedBefore = ReadLogStartCheckpoint();
        _logEndOffset = _segments[^1].NextOffset;
        if (!(cleanShutdown && _producers.TryLoad(context.Disk, directory, context.NowMs)))
        {
            foreach (var header in _segments.SelectMany(s => s.BatchHeaders())) _producers.Record(header, header.MaxTimestamp);
        }
        // Everything opened is durable now: recovery synced what it validated, a clean stop synced the rest.
        _groupCommit = new GroupCommit(_logEndOffset, () => LogEndOffset, SyncToDisk, _ => Signal(), OnSyncFailed, context.Scheduler);
        // A failed fsync of the zeros fails the segment's next sync too: a flush now reports it.
        _fillAhead = new FillAheadPolicy(context, _ => _groupCommit.Request());
    }

    public string Topic { get; }

    public int Partition { get; }

    public string Directory { get; }

    internal IDisk Disk => _context.Disk;

    internal TopicSettings Settings => _settings();

    /// <summary>The first offset still in the log (moves with retention and DeleteRecords).</summary>
    public long LogStartOffset => Math.Max(_segments[0].BaseOffset, Volatile.Read(ref _deletedBefore));

    /// <summary>The offset the next record gets. Records between the high watermark and here are written but not yet visible.</summary>
    public long LogEndOffset => Volatile.Read(ref _logEndOffset);

    /// <summary>
    /// What consumers may read up to. <c>always</c>: the fsynced offset. <c>interval</c>: the log end
    /// offset: consumers may see up to FlushIntervalMs of records that a power cut can take back.
    /// </summary>
    public long HighWatermark => _context.Options.FlushPolicy == FlushPolicy.Always ? Math.Min(_groupCommit.FlushedUpTo, LogEndOffset) : LogEndOffset;

    /// <summary>Why the partition takes no writes (a failed fsync or write), or null.</summary>
    public string? StorageError => _storageError;

    /// <summary>Total bytes of the partition's segments.</summary>
    public long SizeBytes => _segments.Sum(s => s.Size);

    public int SegmentCount => _segments.Length;

    internal LogSegment[] Segments => _segments;

    internal int ProducerCount { get { lock (_appendLock) return _producers.Count; } }

    internal long MaxProducerId { get { lock (_appendLock) return _producers.MaxProducerId; } }

    private LogSegment[] OpenSegments(bool cleanShutdown)
    {
        var disk = _context.Disk;
        var names = disk.FileNames(Directory);
        // Leftovers of a compaction or an atomic write cut short: their originals are still in place.
        foreach (var leftover in names.Where(n => n.EndsWith(".cleaned", StringComparison.Ordinal) || n.EndsWith(".tmp", StringComparison.Ordinal)))
            disk.DeleteFile(Path.Combine(Directory, leftover));
        var baseOffsets = names
            .Where(n => n.EndsWith(".log", StringComparison.Ordinal))
            .Select(n => long.TryParse(Path.GetFileNameWithoutExtension(n), out var o) ? o : -1)
            .Where(o => o >= 0)
            .Order()
            .ToList();
        if (baseOffsets.Count == 0)
        {
            var first = LogSegment.Create(disk, Directory, 0, _context.Now);
            disk.SyncDirectory(Directory);
            return [first];
        }
        var segments = new List<LogSegment>();
        for (var i = 0; i < baseOffsets.Count; i++)
        {
            // After a clean shutdown only the active segment is checked batch by batch; after a crash, all are.
            var segment = LogSegment.Open(disk, Directory, baseOffsets[i], validate: !cleanShutdown || i == baseOffsets.Count - 1, _context.Now, _logger);
            segments.Add(segment);
            // Zeros past a segment's last batch, where the next segment starts right after it, are a
            // fill that a roll's trim did not get to the disk: nothing of the log is missing.
            var nothingMissing = segment.CutOnlyZeros && i < baseOffsets.Count - 1 && segment.NextOffset == baseOffsets[i + 1];
            if (segment.WasTruncated && i < baseOffsets.Count - 1 && !nothingMissing)
            {
                // A torn segment was never wholly fsynced, so no flush covered anything after it:
                // later segments hold only unacknowledged, unseen records. Dropping them keeps offsets contiguous.
                foreach (var later in baseOffsets.Skip(i + 1))
                {
                    _logger.LogWarning("Recovered {Topic}-{Partition}: deleting segment {Segment}, which follows a torn one", Topic, Partition, LogSegment.FileStem(later));
                    LogSegment.DeleteFiles(disk, Directory, later);
                }
                break;
            }
        }
        disk.SyncDirectory(Directory);
        foreach (var older in segments.SkipLast(1)) older.Seal();
        return [.. segments];
    }

    /// <summary>
    /// Validates and appends the record batches of one Produce partition (the raw record set as
    /// received, one or more v2 batches). All or nothing: a bad batch rejects the whole set with
    /// <see cref="CorruptRecordException"/>. With <paramref name="durable"/> and the flush policy
    /// <c>always</c> the task completes only after the bytes are fsynced. Returns the offsets given.
    /// The batches' base offsets and leader epochs are rewritten in place, and the bytes are written
    /// to the segment before the call returns or first waits: the caller may reuse the buffer then.
    /// </summary>
    public async ValueTask<AppendResult> AppendAsync(Memory<byte> recordSet, bool durable, CancellationToken cancellationToken = default)
    {
        var batches = recordSet;
        var headers = RecordBatch.ValidateRecordSet(batches.Span);
        var settings = _settings();
        foreach (var h in headers)
        {
            if (h.TotalSize > settings.MaxMessageBytes)
                throw new RecordTooLargeException($"batch of {h.TotalSize} bytes exceeds max.message.bytes {settings.MaxMessageBytes} of topic {Topic}");
        }

        long baseOffset, nextOffset;
        lock (_appendLock)
        {
            ThrowIfUnwritable();
            // A retried batch of an idempotent producer is acknowledged with its first offsets.
            if (_producers.Check(headers[0]) is { } duplicate)
            {
                if (headers.Count > 1) throw new OutOfOrderSequenceException("a record set may not mix a retried batch with new ones");
                baseOffset = duplicate.BaseOffset;
                nextOffset = duplicate.LastOffset + 1;
            }
            else
            {
                baseOffset = nextOffset = _logEndOffset;
                var position = 0;
                for (var i = 0; i < headers.Count; i++)
                {
                    if (i > 0 && _producers.Check(headers[i]) is not null)
                        throw new OutOfOrderSequenceException("a record set may not mix a retried batch with new ones");
                    RecordBatch.AssignOffsetAndEpoch(batches.Span[position..], nextOffset, LeaderEpoch);
                    headers[i] = headers[i] with { BaseOffset = nextOffset };
                    nextOffset = headers[i].LastOffset + 1;
                    position += headers[i].TotalSize;
                }
                try
                {
                    var active = RollIfNeeded(settings, batches.Length, baseOffset);
                    active.Append(batches.Span, headers);
                    _fillAhead.Appended(active, batches.Length, settings.SegmentBytes);
                }
                catch (IOException ex)
                {
                    // What reached the file is unknown: stop writing rather than guess.
                    OnWriteFailed(ex);
                    throw new KafkaStorageException($"write to {Topic}-{Partition} failed: {ex.Message}", ex);
                }
                var now = _context.NowMs;
                foreach (var header in headers) _producers.Record(header, now);
                Volatile.Write(ref _logEndOffset, nextOffset);
            }
        }

        if (_context.Options.FlushPolicy == FlushPolicy.Interval)
        {
            Signal();
            return new AppendResult(baseOffset, nextOffset - 1);
        }
        // Every append, whatever its acks, is followed by a group commit: that is what makes it visible.
        if (!durable)
        {
            _groupCommit.Request();
            return new AppendResult(baseOffset, nextOffset - 1);
        }
        await _groupCommit.WaitFlushedAsync(nextOffset).WaitAsync(cancellationToken);
        return new AppendResult(baseOffset, nextOffset - 1);
    }

    private void ThrowIfUnwritable()
    {
        if (_closed) throw new PartitionClosedException($"{Topic}-{Partition} is deleted or closed");
        if (_storageError is { } error) throw new KafkaStorageException($"{Topic}-{Partition} is read-only: {error}");
    }

    /// <summary>Starts a new segment when the active one would grow past segment.bytes or is older than segment.ms.</summary>
    private LogSegment RollIfNeeded(TopicSettings settings, int incomingBytes, long nextOffset)
    {
        var active = _segments[^1];
        if (active.Size == 0) return active;
        var tooBig = active.Size + incomingBytes > settings.SegmentBytes;
        var tooOld = _context.Now - active.CreatedAt > TimeSpan.FromMilliseconds(settings.SegmentMs);
        if (!tooBig && !tooOld) return active;
        // No fsync here, under the lock: the next group commit syncs the old segment's tail, the new
        // file and the directory entry before it moves the high watermark past them. The old one is
        // sealed (its zeros cut off, its index files synced and closed) on a flush thread; a clean
        // stop cuts the zeros if that has not run yet.
        active.StopFilling();
        _context.Scheduler.Schedule(() =>
        {
            try
            {
                active.Seal();
            }
            catch (IOException ex)
            {
                _logger.LogWarning(ex, "Could not seal {Topic}-{Partition}'s rolled segment {Segment}; the next start checks it", Topic, Partition, LogSegment.FileStem(active.BaseOffset));
            }
        });
        var next = LogSegment.Create(_context.Disk, Directory, nextOffset, _context.Now);
        Volatile.Write(ref _directoryDirty, 1);
        _segments = [.. _segments, next];
        return next;
    }

    /// <summary>The group commit's sync: every segment's unsynced tail, then the directory if a segment was created.</summary>
    private void SyncToDisk()
    {
        // Deleted meanwhile: what waits for this flush is not durable and never will be.
        if (_closed) throw new PartitionClosedException($"{Topic}-{Partition} was deleted");
        _fillAhead.Flushing();
        foreach (var segment in _segments)
        {
            if (!segment.TryAcquire()) continue; // retired meanwhile: nothing of it is needed
            try
            {
                segment.Sync();
            }
            finally
            {
                segment.Release();
            }
        }
        if (Interlocked.Exchange(ref _directoryDirty, 0) == 1) _context.Disk.SyncDirectory(Directory);
    }

    private void OnSyncFailed(Exception ex)
    {
        if (_storageError is not null || ex is PartitionClosedException) return;
        _storageError = $"fsync failed ({ex.Message}); restart the broker to re-validate the partition";
        _logger.LogError(ex, "fsync of {Topic}-{Partition} failed: the partition is read-only until the broker restarts and re-validates it; consumers keep reading up to offset {HighWatermark}",
            Topic, Partition, HighWatermark);
        RecordStorageError();
    }

    private void OnWriteFailed(Exception ex)
    {
        if (_storageError is not null) return;
        _storageError = $"write failed ({ex.Message}); restart the broker to re-validate the partition";
        _logger.LogError(ex, "Write to {Topic}-{Partition} failed: the partition is read-only until the broker restarts and re-validates it", Topic, Partition);
        RecordStorageError();
    }

    private const string StorageErrorFileName = "storage-error.json";

    private sealed record StorageErrorRecord(long DurableUpTo, string Error);

    /// <summary>
    /// After a failed fsync the page cache may still show bytes that will never reach the disk (the
    /// kernel marks them clean), and a restarted broker would read them as whole, valid batches. So
    /// the partition writes down the last offset known durable, and the next start cuts the log back
    /// to it. Nothing beyond it was acknowledged with acks=all or shown to a consumer.
    /// </summary>
    private void RecordStorageError()
    {
        try
        {
            _context.Disk.WriteAtomically(Path.Combine(Directory, StorageErrorFileName),
                System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new StorageErrorRecord(_groupCommit.FlushedUpTo, _storageError ?? "")));
        }
        catch (IOException ex)
        {
            _logger.LogCritical(ex, "{Topic}-{Partition}: cannot record the storage error either; after a restart, records past offset {Offset} may be served although they are not durable",
                Topic, Partition, _groupCommit.FlushedUpTo);
        }
    }

    private void CutBackAfterStorageError()
    {
        var path = Path.Combine(Directory, StorageErrorFileName);
        if (!_context.Disk.FileExists(path)) return;
        var record = System.Text.Json.JsonSerializer.Deserialize<StorageErrorRecord>(_context.Disk.ReadAllBytes(path))
            ?? throw new InvalidDataException($"{path} holds null");
        var cut = _segments[^1].NextOffset - record.DurableUpTo;
        if (cut > 0)
        {
            _logger.LogWarning("{Topic}-{Partition} had a storage error ({Error}): cutting the log back to offset {Offset}, the last known durable ({Records} offsets of unknown durability dropped)",
                Topic, Partition, record.Error, record.DurableUpTo, cut);
            TruncateTo(record.DurableUpTo);
        }
        _context.Disk.DeleteFile(path);
        _context.Disk.SyncDirectory(Directory);
    }

    /// <summary>
    /// Drops every batch at or after <paramref name="offset"/> (start-up only, before anyone reads).
    /// The log then ends exactly at <paramref name="offset"/>, even where a lost, never-synced tail
    /// left a gap below it: offsets a consumer may have seen are never handed out again.
    /// </summary>
    private void TruncateTo(long offset)
    {
        var kept = _segments.TakeWhile((s, i) => i == 0 || s.BaseOffset <= offset).ToList();
        foreach (var dropped in _segments.Skip(kept.Count))
        {
            dropped.Retire();
            dropped.DeleteFiles();
        }
        kept[^1] = kept[^1].TruncateTo(offset, _context.Now, _logger);
        if (kept[^1].NextOffset < offset) kept.Add(LogSegment.Create(_context.Disk, Directory, offset, _context.Now));
        _segments = [.. kept];
        _context.Disk.SyncDirectory(Directory);
    }

    /// <summary>
    /// Reads whole batches below the high watermark, starting with the one containing
    /// <paramref name="offset"/>, up to about <paramref name="maxBytes"/>; with
    /// <paramref name="minOneBatch"/> the first batch even when it is larger (Kafka does this for the
    /// first partition of a fetch only). Empty at or past the high watermark. Throws
    /// <see cref="OffsetOutOfRangeException"/> outside [LogStartOffset, LogEndOffset]. With
    /// <paramref name="deferred"/> the records are not read yet: they are a <see cref="Protocol.DeferredBytes"/>
    /// (<see cref="FetchedRecords.Owner"/>) that reads them when written; dispose it once they are sent.
    /// </summary>
    public FetchedRecords Read(long offset, int maxBytes, bool minOneBatch = true, bool deferred = false)
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            var segments = _segments;
            var highWatermark = HighWatermark;
            var end = LogEndOffset;
            var start = Math.Max(segments[0].BaseOffset, Volatile.Read(ref _deletedBefore));
            if (offset < start || offset > end)
                throw new OffsetOutOfRangeException($"offset {offset} is outside [{start}, {end}] of {Topic}-{Partition}");
            if (offset >= highWatermark) return new FetchedRecords(ReadOnlyMemory<byte>.Empty, highWatermark, start);
            if (ReadSegments(segments, offset, maxBytes, highWatermark, minOneBatch, deferred) is { } read)
                return new FetchedRecords(read.Records, highWatermark, start, read.Owner);
            // A segment was retired (compaction, retention) while this read ran: read the new list.
        }
    }

    private static (ReadOnlyMemory<byte> Records, IDisposable? Owner)? ReadSegments(LogSegment[] segments, long offset, int maxBytes, long endOffset,
        bool minOneBatch, bool deferred)
    {
        for (var i = FindSegment(segments, offset); i < segments.Length; i++)
        {
            var segment = segments[i];
            if (segment.BaseOffset >= endOffset) break;
            if (!segment.TryAcquire()) return null;
            try
            {
                var from = Math.Max(offset, segment.BaseOffset);
                if (deferred)
                {
                    if (segment.Slice(from, maxBytes, endOffset, minOneBatch) is { } slice) return (slice.Memory, slice);
                }
                else if (segment.Read(from, maxBytes, endOffset, minOneBatch) is { Count: > 0 } bytes) return (bytes, null);
            }
            finally
            {
                segment.Release();
            }
        }
        return (ReadOnlyMemory<byte>.Empty, null);
    }

    private static int FindSegment(LogSegment[] segments, long offset)
    {
        int lo = 0, hi = segments.Length - 1, found = 0;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (segments[mid].BaseOffset <= offset) { found = mid; lo = mid + 1; } else hi = mid - 1;
        }
        return found;
    }

    /// <summary>
    /// The first record below the high watermark whose timestamp is ≥ <paramref name="timestamp"/>,
    /// with that timestamp; null if none. Inside a batch, the record, not the batch's first offset.
    /// </summary>
    public (long Offset, long Timestamp)? FindOffsetByTimestamp(long timestamp)
    {
        while (true)
        {
            var segments = _segments;
            var highWatermark = HighWatermark;
            var retired = false;
            foreach (var segment in segments)
            {
                if (segment.BaseOffset >= highWatermark) break;
                if (!segment.TryAcquire()) { retired = true; break; }
                byte[]? batch;
                try
                {
                    batch = segment.FindBatchByTimestamp(timestamp, highWatermark);
                }
                finally
                {
                    segment.Release();
                }
                if (batch is not null) return RecordBatch.FirstRecordAtOrAfter(batch, timestamp);
            }
            if (!retired) return null;
        }
    }

    /// <summary>
    /// Completes when records beyond <paramref name="offset"/> may have become visible, or the
    /// partition closed: at once when they already are. The partition's one shared signal, so many
    /// waiters cost it nothing (a fetch that waits on many partitions awaits any of them).
    /// </summary>
    public Task DataBeyond(long offset)
    {
        var signal = Volatile.Read(ref _dataArrived); // before the check: a record made visible after it completes this signal
        return HighWatermark > offset || _closed ? Task.CompletedTask : signal.Task;
    }

    /// <summary>
    /// Completes when the high watermark is past <paramref name="offset"/> (at once if already so).
    /// The caller passes the offset it read up to, so a record made visible between its read and
    /// this call wakes it at once.
    /// </summary>
    public async Task WaitForDataAsync(long offset, CancellationToken cancellationToken)
    {
        // DataBeyond answers Task.CompletedTask itself when the data is there; a completed signal only means "look again".
        for (var signal = DataBeyond(offset); signal != Task.CompletedTask; signal = DataBeyond(offset))
        {
            await signal.WaitAsync(cancellationToken);
        }
    }

    private void Signal() => Interlocked.Exchange(ref _dataArrived, _context.Scheduler.NewCompletionSource()).TrySetResult();

    /// <summary>
    /// Replaces segments under the append lock: <paramref name="change"/> gets the current list and
    /// returns the new one, or null to leave it. Segments no longer listed are retired (closed once
    /// their readers finish); their files are the caller's business.
    /// </summary>
    internal bool ReplaceSegments(Func<LogSegment[], LogSegment[]?> change)
    {
        lock (_appendLock)
        {
            if (_closed) return false;
            var current = _segments;
            var updated = change(current);
            if (updated is null) return false;
            _segments = updated;
            foreach (var gone in current.Except(updated)) gone.Retire();
            return true;
        }
    }

    private const string LogStartCheckpointFileName = "log-start-offset";

    private long ReadLogStartCheckpoint()
    {
        var path = Path.Combine(Directory, LogStartCheckpointFileName);
        if (!_context.Disk.FileExists(path)) return 0;
        var text = System.Text.Encoding.ASCII.GetString(_context.Disk.ReadAllBytes(path));
        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var offset)
            ? Math.Min(offset, _segments[^1].NextOffset)
            : throw new InvalidDataException($"{Path.GetFullPath(path)} holds '{text}', not an offset");
    }

    /// <summary>
    /// DeleteRecords: moves the log start offset up to <paramref name="offset"/> (-1: the high
    /// watermark), durably (<c>log-start-offset</c>, written atomically) before it takes effect, and
    /// deletes the segments wholly below it. Returns the new log start offset. Throws
    /// <see cref="OffsetOutOfRangeException"/> beyond the high watermark.
    /// </summary>
    public long DeleteRecordsBefore(long offset)
    {
        lock (_appendLock)
        {
            ThrowIfUnwritable();
            var highWatermark = HighWatermark;
            if (offset == -1) offset = highWatermark;
            if (offset < 0 || offset > highWatermark)
                throw new OffsetOutOfRangeException($"cannot delete records before {offset}: the high watermark of {Topic}-{Partition} is {highWatermark}");
            if (offset <= LogStartOffset) return LogStartOffset;
            _context.Disk.WriteAtomically(Path.Combine(Directory, LogStartCheckpointFileName),
                System.Text.Encoding.ASCII.GetBytes(offset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Volatile.Write(ref _deletedBefore, offset);
            var segments = _segments;
            var below = segments.Take(segments.Length - 1).TakeWhile(s => s.NextOffset <= offset).Count();
            if (below > 0)
            {
                foreach (var segment in segments[..below]) segment.DeleteFiles();
                _segments = segments[below..];
                foreach (var segment in segments[..below]) segment.Retire();
                _context.Disk.SyncDirectory(Directory);
            }
            return LogStartOffset;
        }
    }

    /// <summary>Forgets idle idempotent producers (producer.id.expiration.ms).</summary>
    internal int ExpireProducers(long expirationMs)
    {
        lock (_appendLock) return _producers.Expire(_context.NowMs, expirationMs);
    }

    /// <summary>Makes everything appended so far durable (interval flush policy, shutdown).</summary>
    public void Flush()
    {
        if (_storageError is not null || _closed) return;
        _groupCommit.FlushNow();
        if (_context.Options.FlushPolicy == FlushPolicy.Interval) Signal();
    }

    /// <summary>Stops writes and deletes the partition's files (DeleteTopics). Readers holding segments finish first.</summary>
    internal void Delete()
    {
        lock (_appendLock)
        {
            if (_closed) return;
            _closed = true;
            foreach (var segment in _segments) segment.Retire();
            _context.Disk.DeleteDirectoryAndFiles(Directory);
        }
        Signal();
    }

    /// <summary>Clean stop: syncs and closes every segment and saves the producer state.</summary>
    internal void Close()
    {
        lock (_appendLock)
        {
            if (_closed) return;
            if (_storageError is null)
            {
                try
                {
                    // Each segment's zeros cut and its indexes synced, then the logs (and the cuts) synced.
                    foreach (var segment in _segments) segment.Seal();
                    SyncToDisk();
                    _producers.Save(_context.Disk, Directory);
                }
                catch (IOException ex)
                {
                    OnSyncFailed(ex); // no clean-shutdown marker then: the next start checks everything
                }
            }
            _closed = true;
            foreach (var segment in _segments) segment.Retire();
        }
        Signal();
    }

    /// <summary>Forgets the partition without touching its files: a simulated process crash.</summary>
    internal void Abandon() => _closed = true;
}

/// <param name="BaseOffset">Offset given to the first record of the set.</param>
/// <param name="LastOffset">Offset of the last record of the set.</param>
/// <param name="LogAppendTime">-1: CreateTime topics report no append time.</param>
public readonly record struct AppendResult(long BaseOffset, long LastOffset, long LogAppendTime = -1);

/// <summary>Batches read for a fetch, with the high watermark and log start offset they were read against; <paramref name="Owner"/>: what to dispose once they are sent (deferred reads).</summary>
public readonly record struct FetchedRecords(ReadOnlyMemory<byte> Records, long HighWatermark, long LogStartOffset, IDisposable? Owner = null);

/// <summary>The partition was deleted (or the broker is stopping) while a request used it: Kafka's UNKNOWN_TOPIC_OR_PARTITION.</summary>
public sealed class PartitionClosedException(string message) : Exception(message);
