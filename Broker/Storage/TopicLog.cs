using System.Text.Json;

namespace Shop.Broker.Storage;

/// <summary>
/// One topic: its partitions and its configs (Kafka names: retention.ms, segment.bytes, cleanup.policy, ...).
/// The topic's id and configs are kept in <c>&lt;topic&gt;-0/topic.json</c>, beside partition 0's segments.
/// </summary>
public sealed class TopicLog : IDisposable
{
    public const string MetadataFileName = "topic.json";

    private readonly BrokerOptions _options;
    private readonly Dictionary<string, string> _configs;

    private TopicLog(string name, Guid topicId, Dictionary<string, string> configs, BrokerOptions options)
    {
        Name = name;
        TopicId = topicId;
        _configs = configs;
        _options = options;
        Partitions = [];
    }

    public string Name { get; }

    /// <summary>Stable id, kept on disk with the topic.</summary>
    public Guid TopicId { get; }

    public IReadOnlyList<PartitionLog> Partitions { get; private set; }

    /// <summary>Configs set on the topic (not the broker defaults).</summary>
    public IReadOnlyDictionary<string, string> Configs => _configs;

    /// <summary>The value in force: the topic's own, else the default.</summary>
    public string EffectiveConfig(string name) => _configs.TryGetValue(name, out var v) ? v : TopicConfig.Default(name, _options);

    /// <summary>Every config with its effective value and whether it is the default, for DescribeConfigs.</summary>
    public IReadOnlyList<TopicConfigEntry> DescribeConfigs() =>
        TopicConfig.Names.Select(n => new TopicConfigEntry(n, EffectiveConfig(n), !_configs.ContainsKey(n))).ToList();

    private sealed record Metadata(Guid TopicId, Dictionary<string, string> Configs);

    internal static string PartitionDirectory(string dataDir, string topic, int partition) => Path.Combine(dataDir, $"{topic}-{partition}");

    internal static TopicLog Create(string dataDir, string name, int partitions, Dictionary<string, string> configs, BrokerOptions options, ILogger logger)
    {
        var topic = new TopicLog(name, Guid.NewGuid(), configs, options);
        var first = PartitionDirectory(dataDir, name, 0);
        Directory.CreateDirectory(first);
        File.WriteAllText(Path.Combine(first, MetadataFileName), JsonSerializer.Serialize(new Metadata(topic.TopicId, configs)));
        topic.OpenPartitions(dataDir, partitions, cleanShutdown: true, logger);
        return topic;
    }

    internal static TopicLog Load(string dataDir, string name, int partitions, BrokerOptions options, bool cleanShutdown, ILogger logger)
    {
        var path = Path.Combine(PartitionDirectory(dataDir, name, 0), MetadataFileName);
        Metadata? metadata = null;
        try
        {
            metadata = JsonSerializer.Deserialize<Metadata>(File.ReadAllText(path));
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            logger.LogError("Topic {Topic}: cannot read {Path} ({Error}); using default configs and a new topic id", name, path, ex.Message);
        }
        metadata ??= new Metadata(Guid.NewGuid(), []);
        if (!File.Exists(path)) File.WriteAllText(path, JsonSerializer.Serialize(metadata));
        var topic = new TopicLog(name, metadata.TopicId, metadata.Configs ?? [], options);
        topic.OpenPartitions(dataDir, partitions, cleanShutdown, logger);
        return topic;
    }

    private void OpenPartitions(string dataDir, int partitions, bool cleanShutdown, ILogger logger) =>
        Partitions = Enumerable.Range(0, partitions)
            .Select(p => new PartitionLog(Name, p, PartitionDirectory(dataDir, Name, p), EffectiveConfig, _options, cleanShutdown, logger))
            .ToArray();

    internal void DeleteFiles()
    {
        foreach (var partition in Partitions) partition.DeleteFiles();
    }

    public void Dispose()
    {
        foreach (var partition in Partitions) partition.Dispose();
    }
}

public sealed record TopicConfigEntry(string Name, string? Value, bool IsDefault, bool IsSensitive = false, bool ReadOnly = false);
