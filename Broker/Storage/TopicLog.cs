namespace Shop.Broker.Storage;

// CONTRACT: see LogManager.cs.

/// <summary>One topic: its partitions and its configs (Kafka names: retention.ms, segment.bytes, cleanup.policy, ...).</summary>
public sealed class TopicLog
{
    private TopicLog() => throw new NotImplementedException();

    public string Name => throw new NotImplementedException();

    /// <summary>Stable id, kept on disk with the topic.</summary>
    public Guid TopicId => throw new NotImplementedException();

    public IReadOnlyList<PartitionLog> Partitions => throw new NotImplementedException();

    /// <summary>Configs set on the topic (not the broker defaults).</summary>
    public IReadOnlyDictionary<string, string> Configs => throw new NotImplementedException();

    /// <summary>Every config with its effective value and whether it is the default, for DescribeConfigs.</summary>
    public IReadOnlyList<TopicConfigEntry> DescribeConfigs() => throw new NotImplementedException();
}

public sealed record TopicConfigEntry(string Name, string? Value, bool IsDefault, bool IsSensitive = false, bool ReadOnly = false);
