using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Shop.Broker.Storage;

namespace Shop.Broker.Groups;

/// <summary>
/// Owns every consumer group of this (single) broker: their state machines, a timer that evicts
/// silent members and ends join phases, committed offsets, and lag (log end offset − committed
/// offset) for the console and as the metric <c>shop.broker.consumer_lag</c>.
/// </summary>
public sealed class GroupCoordinator : IDisposable
{
    public const string MeterName = "Shop.Broker";

    private readonly ConcurrentDictionary<string, ConsumerGroup> _groups = new();
    private readonly LogManager _logs;
    private readonly TimeProvider _time;
    private readonly ITimer _ticker;
    private readonly TimeSpan _initialRebalanceDelay;

    public GroupCoordinator(LogManager logs, CommittedOffsets offsets, TimeProvider time, IMeterFactory meters, BrokerOptions options)
    {
        _logs = logs;
        _initialRebalanceDelay = TimeSpan.FromMilliseconds(options.GroupInitialRebalanceDelayMs);
        Offsets = offsets;
        _time = time;
        _ticker = time.CreateTimer(_ => Tick(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
        meters.Create(MeterName).CreateObservableGauge("shop.broker.consumer_lag", ObserveLag, "{record}",
            "Records in a partition after the group's committed offset");
    }

    public CommittedOffsets Offsets { get; }

    public ConsumerGroup GetOrCreate(string groupId) => _groups.GetOrAdd(groupId, id => new ConsumerGroup(id, _time, _initialRebalanceDelay));

    public ConsumerGroup? Find(string groupId) => _groups.TryGetValue(groupId, out var group) ? group : null;

    /// <summary>Every group that has members or committed offsets.</summary>
    public IEnumerable<string> GroupIds => _groups.Keys.Union(Offsets.Groups).Order(StringComparer.Ordinal);

    public GroupDescription Describe(string groupId) =>
        Find(groupId)?.Describe() ?? new GroupDescription(groupId, Offsets.Of(groupId).Count > 0 ? GroupState.Empty : GroupState.Dead, "", "", []);

    /// <summary>Removes a group without members and its offsets. False when it still has members.</summary>
    public async Task<bool> DeleteAsync(string groupId, CancellationToken cancellationToken)
    {
        if (Find(groupId) is { IsEmpty: false }) return false;
        if (_groups.TryRemove(groupId, out var group)) group.MarkDead();
        await Offsets.DeleteGroupAsync(groupId, cancellationToken);
        return true;
    }

    /// <summary>
    /// Sets a group's committed offsets, as Kafka's admin alterConsumerGroupOffsets: only while the
    /// group has no members (a running consumer would overwrite them at its next commit, or hold
    /// positions that no longer match). False, and nothing changed, when it has members.
    /// </summary>
    public async Task<bool> ResetOffsetsAsync(string groupId, IReadOnlyList<(TopicPartitionKey Partition, long Offset)> offsets, CancellationToken cancellationToken)
    {
        if (Find(groupId) is { IsEmpty: false }) return false;
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await Offsets.CommitAsync(groupId, offsets.Select(o => (o.Partition, new CommittedOffset(o.Offset, null, now))).ToList(), cancellationToken);
        return true;
    }

    /// <summary>
    /// Lag of one partition a group reads: records after its committed offset, or after the log start
    /// when it is assigned but has committed nothing yet (<see cref="CommittedOffset"/> is then -1).
    /// </summary>
    public sealed record PartitionLag(string Group, string Topic, int Partition, long CommittedOffset, long LogStartOffset, long HighWatermark)
    {
        public long Lag => Math.Max(0, HighWatermark - (CommittedOffset < 0 ? LogStartOffset : CommittedOffset));
    }

    /// <summary>Every partition the group has committed to or has assigned to a member now.</summary>
    public IEnumerable<PartitionLag> Lag(string groupId)
    {
        var committed = Offsets.Of(groupId);
        var assigned = Find(groupId)?.Describe().Members.SelectMany(m => ConsumerAssignment.Partitions(m.Assignment)) ?? [];
        var partitions = committed.Keys.Select(p => (p.Topic, p.Partition)).Union(assigned).Order();
        foreach (var (topicName, partition) in partitions)
        {
            if (!_logs.TryGetTopic(topicName, out var topic) || partition < 0 || partition >= topic.Partitions.Count) continue;
            var log = topic.Partitions[partition];
            var offset = committed.GetValueOrDefault(new TopicPartitionKey(topicName, partition))?.Offset ?? -1;
            yield return new PartitionLag(groupId, topicName, partition, offset, log.LogStartOffset, log.HighWatermark);
        }
    }

    private IEnumerable<Measurement<long>> ObserveLag() =>
        GroupIds.SelectMany(Lag).Select(l => new Measurement<long>(l.Lag,
            new("messaging.consumer.group.name", l.Group), new("messaging.destination.name", l.Topic),
            new("messaging.destination.partition.id", l.Partition.ToString())));

    private void Tick()
    {
        foreach (var group in _groups.Values) group.Tick();
    }

    public void Dispose() => _ticker.Dispose();
}
