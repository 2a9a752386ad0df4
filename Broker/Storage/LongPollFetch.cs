namespace Shop.Broker.Storage;

/// <summary>One partition of a fetch: where to read and how much; <see cref="Log"/> null for an unknown partition.</summary>
public sealed record FetchTarget(PartitionLog? Log, long Offset, int MaxBytes);

/// <summary>What a fetch got from one partition; <paramref name="Owner"/>: what holds the records (their segment), until disposed.</summary>
public sealed record FetchOutcome(FetchError Error, long HighWatermark, long LogStartOffset, ReadOnlyMemory<byte> Records, IDisposable? Owner = null)
{
    /// <summary>Lets go of the records' segments: once the answer is written, or before they are read again.</summary>
    public static void Release(IEnumerable<FetchOutcome> outcomes)
    {
        foreach (var outcome in outcomes) outcome.Owner?.Dispose();
    }
}

public enum FetchError
{
    None,
    UnknownTopicOrPartition,
    OffsetOutOfRange,
}

/// <summary>
/// A Fetch's reads across partitions with Kafka's limits and long poll. Byte limits: each partition
/// gets at most its own max, the response at most the fetch's max, except that the first
/// partition with data may return one whole batch beyond both (so a large record is never stuck).
/// Long poll: until MinBytes are there or MaxWait passes, woken by the high watermark of any
/// partition moving past what was read, never by a timer. Records are located, not read: each is a
/// <see cref="Protocol.DeferredBytes"/> read straight into the socket's memory when the answer is
/// written; the caller releases them (<see cref="FetchOutcome.Release"/>) once they are sent.
/// </summary>
public static class LongPollFetch
{
    public static async Task<IReadOnlyList<FetchOutcome>> ReadAsync(IReadOnlyList<FetchTarget> targets, int maxBytes, int minBytes,
        TimeSpan maxWait, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + maxWait;
        var results = ReadAll(targets, maxBytes, out var totalBytes, out var anyError);
        if (totalBytes >= minBytes || anyError) return results;
        // One timer for the whole wait, however often records wake it first: a consumer waiting for
        // fetch.min.bytes is woken by every record that becomes visible, and each wake only reads again.
        using var expiry = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task? expired = null;
        try
        {
            while (totalBytes < minBytes && !anyError)
            {
                var remaining = deadline - time.GetUtcNow();
                if (remaining <= TimeSpan.Zero) break;
                expired ??= Task.Delay(remaining, time, expiry.Token);
                // Data beyond the high watermark each read saw: a record made visible since then wakes it at once.
                var wakeUps = new List<Task>(targets.Count + 1);
                for (var i = 0; i < targets.Count; i++)
                {
                    if (targets[i].Log is { } log) wakeUps.Add(log.DataBeyond(Math.Max(targets[i].Offset, results[i].HighWatermark)));
                }
                if (wakeUps.Count == 0) break;
                wakeUps.Add(expired);
                FetchOutcome.Release(results); // read again below
                await Task.WhenAny(wakeUps);
                cancellationToken.ThrowIfCancellationRequested();
                results = ReadAll(targets, maxBytes, out totalBytes, out anyError);
                if (expired.IsCompleted) break; // max wait reached: what is there now is the answer
            }
        }
        finally
        {
            // The timer goes with the fetch. Cancel, not CancelAsync: the timer's registration would
            // send its callback through the thread pool, and the answer would wait for a pool thread.
            expiry.Cancel();
        }
        return results;
    }

    private static List<FetchOutcome> ReadAll(IReadOnlyList<FetchTarget> targets, int maxBytes, out int totalBytes, out bool anyError)
    {
        var results = new List<FetchOutcome>(targets.Count);
        totalBytes = 0;
        anyError = false;
        try
        {
            foreach (var target in targets)
            {
                var outcome = Read(target, maxBytes - totalBytes, firstWithData: totalBytes == 0);
                anyError |= outcome.Error != FetchError.None;
                totalBytes += outcome.Records.Length;
                results.Add(outcome);
            }
        }
        catch
        {
            FetchOutcome.Release(results); // the segments already located stay open otherwise
            throw;
        }
        return results;
    }

    private static FetchOutcome Read(FetchTarget target, int budget, bool firstWithData)
    {
        if (target.Log is not { } log) return new FetchOutcome(FetchError.UnknownTopicOrPartition, -1, -1, ReadOnlyMemory<byte>.Empty);
        try
        {
            var limit = Math.Max(0, Math.Min(target.MaxBytes, budget));
            if (limit == 0 && !firstWithData) return new FetchOutcome(FetchError.None, log.HighWatermark, log.LogStartOffset, ReadOnlyMemory<byte>.Empty);
            var read = log.Read(target.Offset, limit, minOneBatch: firstWithData, deferred: true);
            return new FetchOutcome(FetchError.None, read.HighWatermark, read.LogStartOffset, read.Records, read.Owner);
        }
        catch (OffsetOutOfRangeException)
        {
            return new FetchOutcome(FetchError.OffsetOutOfRange, log.HighWatermark, log.LogStartOffset, ReadOnlyMemory<byte>.Empty);
        }
        catch (Exception ex) when (ex is PartitionClosedException or ObjectDisposedException)
        {
            return new FetchOutcome(FetchError.UnknownTopicOrPartition, -1, -1, ReadOnlyMemory<byte>.Empty);
        }
    }
}
