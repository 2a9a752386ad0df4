namespace Shop.Broker.Storage;

/// <summary>
/// Retention (cleanup.policy=delete): deletes whole old segments, never the active one and never
/// one holding records above the high watermark: those whose newest record is older than
/// retention.ms, and the oldest while the partition is larger than retention.bytes without them.
/// The log start offset moves to the first remaining segment.
/// </summary>
internal static class LogRetention
{
    /// <summary>Returns the number of segments deleted.</summary>
    public static int Apply(PartitionLog log, DateTimeOffset now)
    {
        var settings = log.Settings;
        if (!settings.Delete) return 0;
        var expired = 0;
        log.ReplaceSegments(segments =>
        {
            var highWatermark = log.HighWatermark;
            var size = segments.Sum(s => s.Size);
            var count = 0;
            while (count < segments.Length - 1)
            {
                var oldest = segments[count];
                if (oldest.NextOffset > highWatermark) break;
                var tooOld = settings.RetentionMs >= 0 && oldest.MaxTimestamp < now.ToUnixTimeMilliseconds() - settings.RetentionMs;
                var tooBig = settings.RetentionBytes >= 0 && size - oldest.Size >= settings.RetentionBytes;
                if (!tooOld && !tooBig) break;
                size -= oldest.Size;
                count++;
            }
            if (count == 0) return null;
            // Readers holding these keep reading them (unlink semantics); new reads start at the new log start.
            foreach (var segment in segments[..count]) segment.DeleteFiles();
            expired = count;
            return segments[count..];
        });
        // Durable deletion: otherwise a power cut could bring old segments back, and the log start offset with them.
        if (expired > 0) log.Disk.SyncDirectory(log.Directory);
        return expired;
    }
}
