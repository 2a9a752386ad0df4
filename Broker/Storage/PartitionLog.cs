using Shop.Broker.Protocol;

namespace Shop.Broker.Storage;

/// <summary>
/// One partition's log: segments of record batches stored verbatim (magic 2), with offsets
/// assigned by rewriting each batch's base offset. Thread-safe: appends are serialized, reads
/// run concurrently with them and see only whole batches below the log end offset.
/// </summary>
public sealed class PartitionLog : IDisposable
{
    private readonly Lock _appendLock = new();
    private readonly Func<string, string> _config;
    private readonly BrokerOptions _options;
    private readonly GroupCommit _groupCommit;
    private readonly ProducerStateTable _producers = new();
    private readonly ILogger _logger;
    private volatile LogSegment[] _segments;
    private long _logEndOffset;
    private TaskCompletionSource _dataArrived = NewSignal();

    internal PartitionLog(string topic, int partition, string directory, Func<string, string> config,
        BrokerOptions options, bool cleanShutdown, ILogger logger)
    {
        Topic = topic;
        Partition = partition;
        Directory = directory;
        _config = config;
        _options = options;
        _logger = logger;
        System.IO.Directory.CreateDirectory(directory);
        _segments = OpenSegments(directory, cleanShutdown, logger);
        _logEndOffset = _segments[^1].NextOffset;
        if (!(cleanShutdown && _producers.TryLoad(directory)))
        {
            foreach (var header in _segments.SelectMany(s => s.BatchHeaders())) _producers.Record(header);
        }
        _groupCommit = new GroupCommit(() => LogEndOffset, () => _segments[^1].Flush());
    }

    public string Topic { get; }

    public int Partition { get; }

    public string Directory { get; }

    /// <summary>The first offset still in the log (moves with retention).</summary>
    public long LogStartOffset => _segments[0].BaseOffset;

    /// <summary>The offset the next record gets; also the high watermark (single node).</summary>
    public long LogEndOffset => Volatile.Read(ref _logEndOffset);

    /// <summary>Total bytes of the partition's segments.</summary>
    public long SizeBytes => _segments.Sum(s => s.Size);

    public int SegmentCount => _segments.Length;

    private static LogSegment[] OpenSegments(string directory, bool cleanShutdown, ILogger logger)
    {
        var baseOffsets = System.IO.Directory.EnumerateFiles(directory, "*.log")
            .Select(path => long.TryParse(Path.GetFileNameWithoutExtension(path), out var o) ? o : -1)
            .Where(o => o >= 0)
            .Order()
            .ToList();
        if (baseOffsets.Count == 0) return [LogSegment.Create(directory, 0)];
        // After a clean shutdown only the active segment is checked batch by batch; after a crash, all are.
        return baseOffsets
            .Select((o, i) => LogSegment.Open(directory, o, validate: !cleanShutdown || i == baseOffsets.Count - 1, logger))
            .ToArray();
    }

    /// <summary>
    /// Validates and appends the record batches of one Produce partition (the raw record set as
    /// received, one or more v2 batches). All or nothing: a bad batch rejects the whole set with
    /// <see cref="CorruptRecordException"/>. With <paramref name="durable"/> and the flush policy
    /// <c>always</c> the task completes only after the bytes are fsynced. Returns the offsets given.
    /// </summary>
    public async ValueTask<AppendResult> AppendAsync(ReadOnlyMemory<byte> recordSet, bool durable, CancellationToken cancellationToken = default)
    {
        var batches = recordSet.ToArray(); // owned copy: base offsets are rewritten in place
        var headers = RecordBatch.ValidateRecordSet(batches);
        var maxMessageBytes = long.Parse(_config(TopicConfig.MaxMessageBytes));
        foreach (var h in headers)
        {
            if (h.TotalSize > maxMessageBytes)
                throw new RecordTooLargeException($"batch of {h.TotalSize} bytes exceeds max.message.bytes {maxMessageBytes} of topic {Topic}");
        }

        long baseOffset, nextOffset;
        lock (_appendLock)
        {
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
                    RecordBatch.SetBaseOffset(batches.AsSpan(position), nextOffset);
                    headers[i] = headers[i] with { BaseOffset = nextOffset };
                    nextOffset = headers[i].LastOffset + 1;
                    position += headers[i].TotalSize;
                }
                var active = RollIfNeeded(batches.Length, baseOffset);
                active.Append(batches, headers);
                foreach (var header in headers) _producers.Record(header);
                Volatile.Write(ref _logEndOffset, nextOffset);
            }
        }
        Interlocked.Exchange(ref _dataArrived, NewSignal()).TrySetResult();

        if (durable && _options.FlushPolicy == FlushPolicy.Always)
        {
            await _groupCommit.WaitFlushedAsync(nextOffset).AsTask().WaitAsync(cancellationToken);
        }
        return new AppendResult(baseOffset, nextOffset - 1);
    }

    /// <summary>Starts a new segment when the active one would grow past segment.bytes or is older than segment.ms.</summary>
    private LogSegment RollIfNeeded(int incomingBytes, long nextOffset)
    {
        var active = _segments[^1];
        if (active.Size == 0) return active;
        var tooBig = active.Size + incomingBytes > long.Parse(_config(TopicConfig.SegmentBytes));
        var tooOld = DateTime.UtcNow - active.CreatedAt > TimeSpan.FromMilliseconds(long.Parse(_config(TopicConfig.SegmentMs)));
        if (!tooBig && !tooOld) return active;
        // The old segment is made durable now, so group commit only ever needs to flush the active one.
        active.Flush();
        active.FlushIndexes();
        var next = LogSegment.Create(Directory, nextOffset);
        _segments = [.. _segments, next];
        return next;
    }

    /// <summary>
    /// Reads whole batches starting with the one containing <paramref name="offset"/>, up to about
    /// <paramref name="maxBytes"/> (at least one whole batch when any exists, as Kafka does).
    /// Empty when <paramref name="offset"/> == LogEndOffset. Throws <see cref="OffsetOutOfRangeException"/>
    /// outside [LogStartOffset, LogEndOffset].
    /// </summary>
    public ReadOnlyMemory<byte> Read(long offset, int maxBytes)
    {
        var end = LogEndOffset;
        var segments = _segments;
        if (offset < segments[0].BaseOffset || offset > end)
            throw new OffsetOutOfRangeException($"offset {offset} is outside [{segments[0].BaseOffset}, {end}] of {Topic}-{Partition}");
        if (offset == end) return ReadOnlyMemory<byte>.Empty;
        try
        {
            for (var i = FindSegment(segments, offset); i < segments.Length; i++)
            {
                var bytes = segments[i].Read(Math.Max(offset, segments[i].BaseOffset), maxBytes, end);
                if (bytes.Length > 0) return bytes;
            }
        }
        catch (ObjectDisposedException) when (_segments != segments)
        {
            // Compaction or retention swapped segments while this read ran: read the new ones.
            return Read(offset, maxBytes);
        }
        return ReadOnlyMemory<byte>.Empty;
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

    /// <summary>The first offset whose batch has a timestamp ≥ <paramref name="timestamp"/>, with that timestamp; null if none.</summary>
    public (long Offset, long Timestamp)? FindOffsetByTimestamp(long timestamp)
    {
        foreach (var segment in _segments)
        {
            if (segment.FindByTimestamp(timestamp) is { } found) return found;
        }
        return null;
    }

    /// <summary>Completes when LogEndOffset &gt; <paramref name="offset"/> (or at once if already so): wakes long-poll fetches.</summary>
    public async Task WaitForDataAsync(long offset, CancellationToken cancellationToken)
    {
        while (true)
        {
            var signal = Volatile.Read(ref _dataArrived);
            if (LogEndOffset > offset) return;
            await signal.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Deletes whole old segments, never the active one: those whose newest record is older than
    /// retention.ms, and the oldest while the partition is larger than retention.bytes without them.
    /// The log start offset moves to the first remaining segment. Returns the number deleted.
    /// </summary>
    public int ApplyRetention(DateTimeOffset now)
    {
        if (!_config(TopicConfig.CleanupPolicy).Contains("delete", StringComparison.Ordinal)) return 0;
        var retentionMs = long.Parse(_config(TopicConfig.RetentionMs));
        var retentionBytes = long.Parse(_config(TopicConfig.RetentionBytes));
        lock (_appendLock)
        {
            var segments = _segments;
            var size = segments.Sum(s => s.Size);
            var expired = 0;
            while (expired < segments.Length - 1)
            {
                var oldest = segments[expired];
                var tooOld = retentionMs >= 0 && oldest.MaxTimestamp < now.ToUnixTimeMilliseconds() - retentionMs;
                var tooBig = retentionBytes >= 0 && size - oldest.Size >= retentionBytes;
                if (!tooOld && !tooBig) break;
                size -= oldest.Size;
                expired++;
            }
            if (expired == 0) return 0;
            _segments = segments[expired..];
            // Readers holding the old array may still be reading these: they get out-of-range and retry.
            foreach (var segment in segments[..expired]) segment.Delete();
            return expired;
        }
    }

    /// <summary>
    /// Compaction (cleanup.policy=compact): in every segment but the active one, keeps only the
    /// last record of each key in the whole log. Offsets do not change (gaps appear). Compressed
    /// batches are kept whole: rewriting them would mean recompressing. Tombstones are kept.
    /// Returns the number of records removed.
    /// </summary>
    public int Compact()
    {
        if (!_config(TopicConfig.CleanupPolicy).Contains("compact", StringComparison.Ordinal)) return 0;
        var segments = _segments;
        if (segments.Length < 2) return 0;

        var latest = new Dictionary<string, long>();
        foreach (var batch in segments.SelectMany(s => s.Batches()))
        {
            var header = RecordBatch.ReadHeader(batch);
            if (header.Codec != 0 || header.IsControl) continue;
            foreach (var record in RecordBatch.Records(batch))
            {
                if (record.Key is not null) latest[Convert.ToBase64String(record.Key)] = header.BaseOffset + record.OffsetDelta;
            }
        }

        var removed = 0;
        foreach (var segment in segments[..^1])
        {
            var cleaned = Path.Combine(Directory, LogSegment.FileStem(segment.BaseOffset) + ".log.cleaned");
            var removedHere = 0;
            using (var output = new FileStream(cleaned, FileMode.Create, FileAccess.Write))
            {
                foreach (var batch in segment.Batches())
                {
                    var header = RecordBatch.ReadHeader(batch);
                    if (header.Codec != 0 || header.IsControl) { output.Write(batch); continue; }
                    var records = RecordBatch.Records(batch);
                    var kept = records.Where(r => r.Key is null || latest[Convert.ToBase64String(r.Key)] == header.BaseOffset + r.OffsetDelta).ToList();
                    removedHere += records.Count - kept.Count;
                    if (kept.Count == records.Count) output.Write(batch);
                    else if (kept.Count > 0) output.Write(RecordBatch.WithRecords(batch, kept));
                }
                output.Flush(flushToDisk: true);
            }
            if (removedHere == 0) { File.Delete(cleaned); continue; }
            lock (_appendLock)
            {
                var current = _segments;
                var index = Array.IndexOf(current, segment);
                if (index < 0) { File.Delete(cleaned); continue; } // deleted by retention meanwhile
                var replacement = segment.ReplaceWith(cleaned, _logger);
                var updated = (LogSegment[])current.Clone();
                updated[index] = replacement;
                _segments = updated;
            }
            removed += removedHere;
        }
        return removed;
    }

    /// <summary>Makes everything appended so far durable (interval flush policy, shutdown).</summary>
    public void Flush() => _groupCommit.FlushNow();

    internal void DeleteFiles()
    {
        foreach (var segment in _segments) segment.Delete();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    public void Dispose()
    {
        lock (_appendLock)
        {
            var active = _segments[^1];
            active.Flush();
            active.FlushIndexes();
            foreach (var segment in _segments) segment.Dispose();
            _producers.Save(Directory);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <param name="BaseOffset">Offset given to the first record of the set.</param>
/// <param name="LastOffset">Offset of the last record of the set.</param>
/// <param name="LogAppendTime">-1: CreateTime topics report no append time.</param>
public readonly record struct AppendResult(long BaseOffset, long LastOffset, long LogAppendTime = -1);
