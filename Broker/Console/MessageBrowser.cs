using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Shop.Broker.Protocol;
using Shop.Broker.Storage;

namespace Shop.Broker.Console;

/// <summary>Where a browse starts in each partition.</summary>
public enum BrowseStart { Oldest, Newest, Offset, Timestamp }

/// <summary>A browse request: the topic, one partition or all, where to start, how many, and an optional text filter.</summary>
public sealed record BrowseQuery(string Topic, int? Partition, BrowseStart Start, long? Offset, long? Timestamp, int Limit, string? Filter);

/// <summary>A page of messages, oldest first, and where the next page starts in each partition read.</summary>
public sealed record BrowsePage(IReadOnlyList<PartitionRecord> Messages, IReadOnlyDictionary<int, long> NextOffsets);

/// <summary>A record and the partition it is in.</summary>
public sealed record PartitionRecord(int Partition, LogRecord Record);

/// <summary>
/// Reads records for the console as a consumer would, up to the high watermark (never past it:
/// the console shows only what a power cut cannot take back): a page from the oldest, the newest,
/// an offset or a time; a live tail; and every record of a trace.
/// </summary>
public sealed class MessageBrowser(LogManager logs)
{
    public const int MaxLimit = 500;

    /// <summary>How much a filtered browse scans per partition before it answers with what it found.</summary>
    private const long MaxScanBytes = 64L * 1024 * 1024;

    private const int ReadBytes = 1024 * 1024;

    public BrowsePage Browse(BrowseQuery query)
    {
        var topic = FindTopic(query.Topic);
        var limit = Math.Clamp(query.Limit, 1, MaxLimit);
        var partitions = query.Partition is { } one ? [Partition(topic, one)] : topic.Partitions;
        var messages = new List<PartitionRecord>();
        var next = new Dictionary<int, long>();
        foreach (var log in partitions)
        {
            var (found, nextOffset) = ReadPartition(log, StartOffset(log, query, limit), limit, query.Filter);
            messages.AddRange(found);
            next[log.Partition] = nextOffset;
        }
        // Across partitions there is no order but time; keep the page to the limit, newest kept for "newest".
        var ordered = messages.OrderBy(m => m.Record.Timestamp).ThenBy(m => m.Partition).ThenBy(m => m.Record.Offset).ToList();
        if (ordered.Count > limit) ordered = query.Start == BrowseStart.Newest ? ordered[^limit..] : ordered[..limit];
        return new BrowsePage(ordered, next);
    }

    /// <summary>
    /// Every record made visible from now on, as it arrives, in
    /// each partition's order; ends when the caller cancels or the topic goes away.
    /// </summary>
    /// <remarks>
    /// The topic and partition are checked at once, before anything is streamed.
    /// </remarks>
    public IAsyncEnumerable<PartitionRecord> Tail(string topicName, int? partition, string? filter, CancellationToken cancellationToken)
    {
        var topic = FindTopic(topicName);
        return FollowAllAsync(partition is { } one ? [Partition(topic, one)] : topic.Partitions, filter, cancellationToken);
    }

    private static async IAsyncEnumerable<PartitionRecord> FollowAllAsync(IReadOnlyList<PartitionLog> partitions, string? filter,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<PartitionRecord>(new BoundedChannelOptions(1000) { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var followers = partitions.Select(log => FollowAsync(log, filter, channel.Writer, stop.Token)).ToList();
        _ = Task.WhenAll(followers).ContinueWith(t => channel.Writer.TryComplete(t.Exception?.GetBaseException()), TaskScheduler.Default);
        try
        {
            await foreach (var record in channel.Reader.ReadAllAsync(cancellationToken)) yield return record;
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    private static async Task FollowAsync(PartitionLog log, string? filter, ChannelWriter<PartitionRecord> writer, CancellationToken cancellationToken)
    {
        var offset = log.HighWatermark;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await log.WaitForDataAsync(offset, cancellationToken);
                var (found, next) = ReadPartition(log, offset, MaxLimit, filter);
                foreach (var record in found) await writer.WriteAsync(record, cancellationToken);
                offset = next;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is ObjectDisposedException or PartitionClosedException)
        {
            // The topic was deleted or the broker is stopping: this partition's tail ends.
        }
    }

    /// <summary>Every record, in any topic but the internal ones, whose traceparent carries <paramref name="traceId"/>.</summary>
    public IReadOnlyList<(string Topic, PartitionRecord Message)> FindTrace(string traceId, int limit = 200)
    {
        var found = new List<(string, PartitionRecord)>();
        foreach (var topic in logs.Topics.Where(t => !LogManager.IsInternal(t.Name)))
        {
            foreach (var log in topic.Partitions)
            {
                var (records, _) = ReadPartition(log, log.LogStartOffset, limit, null, r => TraceId(r) == traceId);
                found.AddRange(records.Select(r => (topic.Name, r)));
            }
        }
        return found.OrderBy(f => f.Item2.Record.Timestamp).Take(limit).ToList();
    }

    /// <summary>The trace id of a record's W3C traceparent header (<c>00-&lt;trace id&gt;-&lt;span id&gt;-&lt;flags&gt;</c>), if it has one.</summary>
    public static string? TraceId(LogRecord record)
    {
        var traceparent = Header(record, "traceparent");
        var parts = traceparent?.Split('-');
        return parts is { Length: 4 } && parts[1].Length == 32 ? parts[1] : null;
    }

    /// <summary>A header's value as text (the last one of that name, as Kafka's lastHeader).</summary>
    public static string? Header(LogRecord record, string key)
    {
        for (var i = record.Headers.Count - 1; i >= 0; i--)
        {
            if (record.Headers[i].Key == key) return record.Headers[i].Value is { } value ? Encoding.UTF8.GetString(value) : null;
        }
        return null;
    }

    /// <summary>Whether the key, a header or the value contains <paramref name="filter"/> (ignoring case).</summary>
    public static bool Matches(LogRecord record, string filter) =>
        Contains(record.Key, filter) || Contains(record.Value, filter)
        || record.Headers.Any(h => h.Key.Contains(filter, StringComparison.OrdinalIgnoreCase) || Contains(h.Value, filter));

    private static bool Contains(byte[]? bytes, string filter) =>
        bytes is not null && Encoding.UTF8.GetString(bytes).Contains(filter, StringComparison.OrdinalIgnoreCase);

    private TopicLog FindTopic(string name) =>
        logs.TryGetTopic(name, out var topic) ? topic : throw new ConsoleNotFoundException($"There is no topic '{name}'.");

    private static PartitionLog Partition(TopicLog topic, int partition) =>
        partition >= 0 && partition < topic.Partitions.Count ? topic.Partitions[partition]
            : throw new ConsoleNotFoundException($"Topic '{topic.Name}' has partitions 0 to {topic.Partitions.Count - 1}, not {partition}.");

    private static long StartOffset(PartitionLog log, BrowseQuery query, int limit)
    {
        var (start, end) = (log.LogStartOffset, log.HighWatermark);
        return query.Start switch
        {
            BrowseStart.Oldest => start,
            BrowseStart.Newest => Math.Max(start, end - limit),
            BrowseStart.Offset => Math.Clamp(query.Offset ?? start, start, end),
            BrowseStart.Timestamp => log.FindOffsetByTimestamp(query.Timestamp ?? 0)?.Offset ?? end,
            _ => start,
        };
    }

    /// <summary>Up to <paramref name="limit"/> matching records from <paramref name="offset"/>, and the offset to go on from.</summary>
    private static (List<PartitionRecord> Found, long Next) ReadPartition(PartitionLog log, long offset, int limit, string? filter, Func<LogRecord, bool>? predicate = null)
    {
        var found = new List<PartitionRecord>();
        var scanned = 0L;
        offset = Math.Max(offset, log.LogStartOffset);
        while (found.Count < limit && scanned < MaxScanBytes)
        {
            FetchedRecords read;
            try
            {
                read = log.Read(offset, ReadBytes);
            }
            catch (OffsetOutOfRangeException)
            {
                offset = log.LogStartOffset; // retention moved the start past us while we read
                continue;
            }
            if (read.Records.IsEmpty) break;
            scanned += read.Records.Length;
            List<LogRecord> records;
            try
            {
                records = RecordBatchBuilder.ReadLogRecords(read.Records.Span);
            }
            catch (InvalidDataException)
            {
                records = []; // a batch that does not parse: consumers skip it too; go on after it
            }
            foreach (var record in records)
            {
                if (record.Offset < offset) continue; // the first batch can start before the offset asked for
                if (filter is { Length: > 0 } && !Matches(record, filter)) continue;
                if (predicate is not null && !predicate(record)) continue;
                if (found.Count == limit) return (found, record.Offset);
                found.Add(new PartitionRecord(log.Partition, record));
            }
            offset = RecordBatch.NextOffsetAfter(read.Records.Span);
        }
        return (found, found.Count == limit ? found[^1].Record.Offset + 1 : offset);
    }
}

/// <summary>Something the console was asked about does not exist: a 404 with this message.</summary>
public sealed class ConsoleNotFoundException(string message) : Exception(message);

/// <summary>The console refuses a change that Kafka would refuse too: a 409 with this message.</summary>
public sealed class ConsoleConflictException(string message) : Exception(message);
