using System.Collections.Concurrent;
using System.Text.Json;
using Shop.Broker.Protocol;
using Shop.Broker.Storage;

namespace Shop.Broker.Groups;

public readonly record struct TopicPartitionKey(string Topic, int Partition);

/// <summary>A group's position in a partition; <paramref name="LeaderEpoch"/> is the epoch of the record before it (-1: unknown), which clients use to detect a truncated log.</summary>
public sealed record CommittedOffset(long Offset, string? Metadata, long CommitTimestamp, int LeaderEpoch = -1);

/// <summary>
/// Committed offsets of every group, kept in the broker's own log: the internal topic
/// <c>__consumer_offsets</c> (one partition), one JSON record per committed partition, replayed
/// on start (the last record of a key wins; a group tombstone deletes the group's offsets).
/// A commit is acknowledged only after its record is durable, so it survives kill -9.
/// </summary>
public sealed class CommittedOffsets
{
    public const string Topic = "__consumer_offsets";

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<TopicPartitionKey, CommittedOffset>> _groups = new();
    private readonly PartitionLog _log;

    private sealed record OffsetKey(string Group, string? Topic, int? Partition);

    private sealed record OffsetValue(long Offset, string? Metadata, long CommitTimestamp, int LeaderEpoch = -1);

    public CommittedOffsets(LogManager logs, ILogger<CommittedOffsets> logger)
    {
        var topic = logs.TryGetTopic(Topic, out var existing)
            ? existing
            : logs.CreateTopic(Topic, 1, new Dictionary<string, string?> { [TopicConfig.CleanupPolicy] = "compact" });
        _log = topic.Partitions[0];
        Replay(logger);
    }

    private void Replay(ILogger logger)
    {
        var offset = _log.LogStartOffset;
        var records = 0;
        while (offset < _log.HighWatermark)
        {
            var batches = _log.Read(offset, 1 << 20).Records;
            if (batches.IsEmpty) break;
            var next = RecordBatch.NextOffsetAfter(batches.Span);
            foreach (var (recordOffset, record) in RecordBatchBuilder.ReadRecords(batches))
            {
                if (recordOffset < offset) continue; // read again with the batch that holds the start
                records++;
                if (record.Key is null) continue;
                var key = JsonSerializer.Deserialize<OffsetKey>(record.Key)!;
                if (key.Topic is null)
                {
                    if (record.Value is null) _groups.TryRemove(key.Group, out _);
                    continue;
                }
                var partitions = _groups.GetOrAdd(key.Group, _ => new());
                var partitionKey = new TopicPartitionKey(key.Topic, key.Partition ?? 0);
                if (record.Value is null) partitions.TryRemove(partitionKey, out _);
                else
                {
                    var value = JsonSerializer.Deserialize<OffsetValue>(record.Value)!;
                    partitions[partitionKey] = new CommittedOffset(value.Offset, value.Metadata, value.CommitTimestamp, value.LeaderEpoch);
                }
            }
            offset = next;
        }
        logger.LogInformation("Loaded committed offsets of {Groups} groups from {Records} records of {Topic}", _groups.Count, records, Topic);
    }

    public IEnumerable<string> Groups => _groups.Keys;

    public IReadOnlyDictionary<TopicPartitionKey, CommittedOffset> Of(string group) =>
        _groups.TryGetValue(group, out var offsets) ? offsets : new Dictionary<TopicPartitionKey, CommittedOffset>();

    public CommittedOffset? Get(string group, TopicPartitionKey partition) =>
        _groups.TryGetValue(group, out var offsets) && offsets.TryGetValue(partition, out var committed) ? committed : null;

    /// <summary>Writes the commits durably, then makes them visible.</summary>
    public async Task CommitAsync(string group, IReadOnlyList<(TopicPartitionKey Partition, CommittedOffset Offset)> commits, CancellationToken cancellationToken)
    {
        if (commits.Count == 0) return;
        var records = commits.Select(c => new KeyValueRecord(
            JsonSerializer.SerializeToUtf8Bytes(new OffsetKey(group, c.Partition.Topic, c.Partition.Partition)),
            JsonSerializer.SerializeToUtf8Bytes(new OffsetValue(c.Offset.Offset, c.Offset.Metadata, c.Offset.CommitTimestamp, c.Offset.LeaderEpoch)))).ToList();
        await _log.AppendAsync(RecordBatchBuilder.Build(records, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), durable: true, cancellationToken);
        var partitions = _groups.GetOrAdd(group, _ => new());
        foreach (var (partition, offset) in commits) partitions[partition] = offset;
    }

    /// <summary>Forgets the group's offsets of these partitions (OffsetDelete), durably: a tombstone per partition.</summary>
    public async Task DeleteOffsetsAsync(string group, IReadOnlyList<TopicPartitionKey> partitions, CancellationToken cancellationToken)
    {
        if (partitions.Count == 0) return;
        var tombstones = partitions.Select(p => new KeyValueRecord(JsonSerializer.SerializeToUtf8Bytes(new OffsetKey(group, p.Topic, p.Partition)), null)).ToList();
        await _log.AppendAsync(RecordBatchBuilder.Build(tombstones, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), durable: true, cancellationToken);
        if (_groups.TryGetValue(group, out var offsets))
        {
            foreach (var partition in partitions) offsets.TryRemove(partition, out _);
        }
    }

    /// <summary>Forgets every offset of the group (DeleteGroups), durably.</summary>
    public async Task DeleteGroupAsync(string group, CancellationToken cancellationToken)
    {
        var tombstone = new KeyValueRecord(JsonSerializer.SerializeToUtf8Bytes(new OffsetKey(group, null, null)), null);
        await _log.AppendAsync(RecordBatchBuilder.Build([tombstone], DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), durable: true, cancellationToken);
        _groups.TryRemove(group, out _);
    }
}
