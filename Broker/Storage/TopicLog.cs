using System.Text.Json;
using Shop.Broker.Storage.Disk;

namespace Shop.Broker.Storage;

/// <summary>
/// One topic: its partitions and its configs (Kafka names: retention.ms, segment.bytes, cleanup.policy, ...).
/// The topic's id and configs are kept in <c>&lt;topic&gt;-0/topic.json</c>, beside partition 0's
/// segments, written atomically; that file is the topic's existence: a topic is created when it is
/// durable and deleted when it durably says so.
/// </summary>
public sealed class TopicLog
{
    public const string MetadataFileName = "topic.json";

    private readonly LogContext _context;
    private readonly Lock _metadataLock = new();
    private Dictionary<string, string> _configs;
    private TopicSettings _settings;

    private TopicLog(LogContext context, string name, Guid topicId, Dictionary<string, string> configs)
    {
        _context = context;
        Name = name;
        TopicId = topicId;
        _configs = configs;
        _settings = TopicSettings.From(EffectiveConfig);
        Partitions = [];
    }

    public string Name { get; }

    /// <summary>Stable id, kept on disk with the topic.</summary>
    public Guid TopicId { get; }

    public IReadOnlyList<PartitionLog> Partitions { get; private set; }

    /// <summary>Configs set on the topic (not the broker defaults).</summary>
    public IReadOnlyDictionary<string, string> Configs => _configs;

    /// <summary>The configs in force, parsed.</summary>
    public TopicSettings Settings => _settings;

    /// <summary>The value in force: the topic's own, else the default.</summary>
    public string EffectiveConfig(string name) => _configs.TryGetValue(name, out var v) ? v : TopicConfig.Default(name, _context.Options);

    /// <summary>Every config with its effective value and whether it is the default, for DescribeConfigs.</summary>
    public IReadOnlyList<TopicConfigEntry> DescribeConfigs() =>
        TopicConfig.Names.Select(n => new TopicConfigEntry(n, EffectiveConfig(n), !_configs.ContainsKey(n))
        {
            Source = _configs.ContainsKey(n) ? ConfigSource.Topic : TopicConfig.DefaultSource(n, _context.Options),
        }).ToList();

    internal sealed record Metadata(Guid TopicId, Dictionary<string, string>? Configs, int? PartitionCount = null, bool Deleted = false);

    internal static string PartitionDirectory(string dataDir, string topic, int partition) => Path.Combine(dataDir, $"{topic}-{partition}");

    internal static string MetadataPath(string dataDir, string topic) => Path.Combine(PartitionDirectory(dataDir, topic, 0), MetadataFileName);

    /// <summary>
    /// Creates the partition folders, makes them durable, then writes topic.json atomically: a power
    /// cut before that leaves empty folders that the next start removes; after it, the whole topic.
    /// </summary>
    internal static TopicLog Create(LogContext context, string name, int partitions, Dictionary<string, string> configs)
    {
        var dataDir = context.Options.DataDir;
        var topic = new TopicLog(context, name, Guid.NewGuid(), configs);
        for (var p = 0; p < partitions; p++) context.Disk.CreateDirectory(PartitionDirectory(dataDir, name, p));
        context.Disk.SyncDirectory(dataDir);
        topic.WriteMetadata(new Metadata(topic.TopicId, configs, partitions));
        topic.OpenPartitions(partitions, cleanShutdown: true);
        return topic;
    }

    /// <summary>Reads topic.json: null when it is missing; throws <see cref="TopicUnavailableException"/> when it cannot be read.</summary>
    internal static Metadata? ReadMetadata(IDisk disk, string dataDir, string name)
    {
        var path = MetadataPath(dataDir, name);
        if (!disk.FileExists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<Metadata>(disk.ReadAllBytes(path))
                ?? throw new JsonException("the file holds null");
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            throw new TopicUnavailableException(name, $"cannot read {Path.GetFullPath(path)}: {ex.Message}");
        }
    }

    internal static TopicLog Load(LogContext context, string name, Metadata metadata, int partitions, bool cleanShutdown)
    {
        var topic = new TopicLog(context, name, metadata.TopicId, metadata.Configs ?? []);
        topic.OpenPartitions(partitions, cleanShutdown);
        return topic;
    }

    private void WriteMetadata(Metadata metadata) =>
        _context.Disk.WriteAtomically(MetadataPath(_context.Options.DataDir, Name), JsonSerializer.SerializeToUtf8Bytes(metadata));

    private void OpenPartitions(int partitions, bool cleanShutdown) =>
        Partitions = Enumerable.Range(0, partitions)
            .Select(p => new PartitionLog(_context, Name, p, PartitionDirectory(_context.Options.DataDir, Name, p), () => _settings, cleanShutdown))
            .ToArray();

    /// <summary>
    /// Deletion, step one: topic.json durably says the topic is deleted. The point of no return: a
    /// start after a power cut finishes the job.
    /// </summary>
    /// <summary>
    /// Replaces the topic's own configs (the rest fall back to defaults), durably before they take
    /// effect: an atomic rewrite of topic.json. <paramref name="configs"/> are validated already.
    /// </summary>
    internal void ReplaceConfigs(Dictionary<string, string> configs)
    {
        lock (_metadataLock)
        {
            WriteMetadata(new Metadata(TopicId, configs, Partitions.Count));
            _configs = configs;
            _settings = TopicSettings.From(EffectiveConfig);
        }
    }

    /// <summary>
    /// CreatePartitions: adds partitions up to <paramref name="total"/>. Their folders are made
    /// durable first, then topic.json names the new count (atomically): a power cut before that
    /// leaves empty folders that the next start removes.
    /// </summary>
    internal void AddPartitions(int total)
    {
        lock (_metadataLock)
        {
            var dataDir = _context.Options.DataDir;
            for (var p = Partitions.Count; p < total; p++) _context.Disk.CreateDirectory(PartitionDirectory(dataDir, Name, p));
            _context.Disk.SyncDirectory(dataDir);
            WriteMetadata(new Metadata(TopicId, _configs, total));
            Partitions = [.. Partitions, .. Enumerable.Range(Partitions.Count, total - Partitions.Count)
                .Select(p => new PartitionLog(_context, Name, p, PartitionDirectory(dataDir, Name, p), () => _settings, cleanShutdown: true))];
        }
    }

    internal void MarkDeleted() => WriteMetadata(new Metadata(TopicId, _configs, Partitions.Count, Deleted: true));

    /// <summary>After <see cref="MarkDeleted"/>: stops each partition's writes and removes its files.</summary>
    internal void DeleteFiles()
    {
        // Partition 0 last: its folder holds the tombstone.
        foreach (var partition in Partitions.Reverse()) partition.Delete();
        _context.Disk.SyncDirectory(_context.Options.DataDir);
    }

    internal void Close()
    {
        foreach (var partition in Partitions) partition.Close();
    }

    internal void Abandon()
    {
        foreach (var partition in Partitions) partition.Abandon();
    }
}

public sealed record TopicConfigEntry(string Name, string? Value, bool IsDefault, bool IsSensitive = false, bool ReadOnly = false)
{
    public ConfigSource Source { get; init; } = IsDefault ? ConfigSource.Default : ConfigSource.Topic;
}

/// <summary>A topic whose files exist but cannot be opened (unreadable topic.json, missing partitions): Kafka's KAFKA_STORAGE_ERROR.</summary>
public sealed class TopicUnavailableException(string topic, string reason) : IOException($"topic {topic} is unavailable: {reason}")
{
    public string Topic { get; } = topic;

    public string Reason { get; } = reason;
}
