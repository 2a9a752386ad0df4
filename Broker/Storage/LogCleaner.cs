using Shop.Broker.Protocol;
using Shop.Broker.Storage.Disk;

namespace Shop.Broker.Storage;

/// <summary>
/// Compaction (cleanup.policy=compact), after Kafka's LogCleaner: in the closed segments wholly
/// below the high watermark, keeps only the last record of each key among them. Offsets do not
/// change (gaps appear); tombstones are kept. Each replacement is written, fsynced and indexed
/// outside the append lock; under it only the renames and the swap of the segment list happen,
/// and the old segment closes once the fetches reading it finish. A compressed batch is
/// decompressed, filtered and recompressed with its own codec; control batches are kept whole.
/// </summary>
internal static class LogCleaner
{
    /// <summary>Returns the number of records removed.</summary>
    public static int Clean(PartitionLog log, DateTimeOffset now, ILogger logger)
    {
        if (!log.Settings.Compact) return 0;
        var highWatermark = log.HighWatermark;
        // Only records that are durable decide what is superseded: a newer record a power cut could
        // take back must not remove the older one it replaces.
        var closed = log.Segments[..^1].Where(s => s.NextOffset <= highWatermark).ToArray();
        if (closed.Length == 0) return 0;
        if (!closed.All(s => s.TryAcquire())) return 0; // racing retention: next pass
        try
        {
            var latest = LatestOffsetByKey(closed);
            var removed = 0;
            foreach (var segment in closed) removed += CleanSegment(log, segment, latest, now, logger);
            return removed;
        }
        finally
        {
            foreach (var segment in closed) segment.Release();
        }
    }

    private static Dictionary<string, long> LatestOffsetByKey(IEnumerable<LogSegment> segments)
    {
        var latest = new Dictionary<string, long>();
        foreach (var batch in segments.SelectMany(s => s.Batches()))
        {
            var header = RecordBatch.ReadHeader(batch);
            if (header.IsControl || Readable(batch) is not (_, { } records)) continue;
            foreach (var record in records)
            {
                if (record.Key is not null) latest[Convert.ToBase64String(record.Key)] = header.BaseOffset + record.OffsetDelta;
            }
        }
        return latest;
    }

    private static int CleanSegment(PartitionLog log, LogSegment segment, Dictionary<string, long> latest, DateTimeOffset now, ILogger logger)
    {
        var disk = log.Disk;
        var cleanedPath = LogSegment.LogPath(log.Directory, segment.BaseOffset) + LogSegment.CleanedSuffix;
        var removed = 0;
        using (var output = disk.Open(cleanedPath, FileMode.Create))
        {
            long position = 0;
            foreach (var batch in segment.Batches())
            {
                var kept = Keep(batch, latest, ref removed);
                if (kept is null) continue;
                output.Write(kept, position);
                position += kept.Length;
            }
            if (removed > 0) output.Sync();
        }
        if (removed == 0)
        {
            disk.DeleteFile(cleanedPath);
            return 0;
        }
        var replacement = LogSegment.OpenReplacement(disk, log.Directory, segment.BaseOffset, now, logger);
        var swapped = log.ReplaceSegments(current =>
        {
            var index = Array.IndexOf(current, segment);
            if (index < 0) return null; // deleted by retention meanwhile
            replacement.TakeOverFiles();
            var updated = (LogSegment[])current.Clone();
            updated[index] = replacement;
            return updated;
        });
        if (!swapped)
        {
            replacement.DeleteFiles(LogSegment.CleanedSuffix);
            replacement.Retire();
            return 0;
        }
        disk.SyncDirectory(log.Directory);
        replacement.Seal();
        return removed;
    }

    /// <summary>The batch with only its records that are the latest of their key; null when none is left.</summary>
    private static byte[]? Keep(byte[] batch, Dictionary<string, long> latest, ref int removed)
    {
        var header = RecordBatch.ReadHeader(batch);
        if (header.IsControl || Readable(batch) is not ({ } payload, { } records)) return batch;
        var kept = records.Where(r => r.Key is null || latest[Convert.ToBase64String(r.Key)] == header.BaseOffset + r.OffsetDelta).ToList();
        removed += records.Count - kept.Count;
        if (kept.Count == records.Count) return batch;
        return kept.Count > 0 ? RecordBatch.WithRecords(batch, payload, kept) : null;
    }

    /// <summary>
    /// The batch's records, or null when they cannot be read (records a client sent that do not parse,
    /// or that decompress beyond the cap): such a batch is kept as it is, and its keys supersede nothing.
    /// </summary>
    private static (byte[] Payload, List<RecordBatch.RecordSlice> Records)? Readable(byte[] batch)
    {
        try
        {
            var payload = RecordBatch.RecordsPayload(batch);
            return (payload, RecordBatch.Records(batch, payload));
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }
}
