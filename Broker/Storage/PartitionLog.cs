namespace Shop.Broker.Storage;

// CONTRACT: see LogManager.cs.

/// <summary>
/// One partition's log: segments of record batches stored verbatim (magic 2), with offsets
/// assigned by rewriting each batch's base offset. Thread-safe: appends are serialized, reads
/// run concurrently with them.
/// </summary>
public sealed class PartitionLog
{
    private PartitionLog() => throw new NotImplementedException();

    public string Topic => throw new NotImplementedException();

    public int Partition => throw new NotImplementedException();

    /// <summary>The first offset still in the log (moves with retention).</summary>
    public long LogStartOffset => throw new NotImplementedException();

    /// <summary>The offset the next record gets; also the high watermark (single node).</summary>
    public long LogEndOffset => throw new NotImplementedException();

    /// <summary>Total bytes of the partition's segments.</summary>
    public long SizeBytes => throw new NotImplementedException();

    /// <summary>
    /// Validates and appends the record batches of one Produce partition (the raw record set as
    /// received, one or more v2 batches). All or nothing: a bad batch rejects the whole set with
    /// <see cref="CorruptRecordException"/>. With <paramref name="durable"/> the task completes only
    /// after the bytes are fsynced. Returns the offset given to the first record.
    /// </summary>
    public ValueTask<AppendResult> AppendAsync(ReadOnlyMemory<byte> recordSet, bool durable, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>
    /// Reads whole batches starting with the one containing <paramref name="offset"/>, up to about
    /// <paramref name="maxBytes"/> (at least one whole batch when any exists, as Kafka does).
    /// Empty when <paramref name="offset"/> == LogEndOffset. Throws <see cref="OffsetOutOfRangeException"/>
    /// outside [LogStartOffset, LogEndOffset].
    /// </summary>
    public ReadOnlyMemory<byte> Read(long offset, int maxBytes) => throw new NotImplementedException();

    /// <summary>The first offset whose record timestamp is ≥ <paramref name="timestamp"/>, with that timestamp; null if none.</summary>
    public (long Offset, long Timestamp)? FindOffsetByTimestamp(long timestamp) => throw new NotImplementedException();

    /// <summary>Completes when LogEndOffset &gt; <paramref name="offset"/> (or at once if already so): wakes long-poll fetches.</summary>
    public Task WaitForDataAsync(long offset, CancellationToken cancellationToken) => throw new NotImplementedException();
}

/// <param name="BaseOffset">Offset given to the first record of the set.</param>
/// <param name="LastOffset">Offset of the last record of the set.</param>
/// <param name="LogAppendTime">-1: CreateTime topics report no append time.</param>
public readonly record struct AppendResult(long BaseOffset, long LastOffset, long LogAppendTime = -1);
