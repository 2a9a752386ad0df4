using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Shop.Broker.Storage.Disk;

namespace Shop.Broker.Storage;

/// <summary>
/// Every topic of the broker on disk: <c>&lt;DataDir&gt;/&lt;topic&gt;-&lt;partition&gt;/</c> in Kafka's layout,
/// loaded (and recovered) on start. A <c>.clean-shutdown</c> marker, written on dispose and durably
/// removed on start, tells the next start whether it must check every segment or only the active
/// ones. A topic that cannot be opened is reported and left alone; the others are served.
/// </summary>
public sealed partial class LogManager : IDisposable
{
    public const string CleanShutdownMarker = ".clean-shutdown";

    private readonly LogContext _context;
    private readonly BrokerOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, TopicLog> _topics = new();
    private readonly ConcurrentDictionary<string, string> _unavailable = new();
    private readonly Lock _topicsLock = new();
    private readonly ITimer? _flushTimer;
    private readonly ITimer _retentionTimer;
    private int _cleaning;
    private bool _disposed;

    public LogManager(LogContext context)
    {
        _context = context;
        _options = context.Options;
        _logger = context.LoggerFactory.CreateLogger<LogManager>();
        var disk = context.Disk;
        if (!disk.DirectoryExists(_options.DataDir))
        {
            disk.CreateDirectory(_options.DataDir);
            disk.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(_options.DataDir))!);
        }
        var marker = Path.Combine(_options.DataDir, CleanShutdownMarker);
        var clean = disk.FileExists(marker);
        if (clean)
        {
            // Durably gone before anything is written: a stale marker would skip the checks after a later crash.
            disk.DeleteFile(marker);
            disk.SyncDirectory(_options.DataDir);
        }
        LoadTopics(clean);
        ProducerIds = new ProducerIdBlocks(disk, _options.DataDir,
            _topics.Values.SelectMany(t => t.Partitions).Select(p => p.MaxProducerId).DefaultIfEmpty(-1).Max());
        _logger.LogInformation("Loaded {Count} topics from {DataDir} after a{Kind} shutdown",
            _topics.Count, Path.GetFullPath(_options.DataDir), clean ? " clean" : "n unclean (or first)");
        var retentionInterval = TimeSpan.FromMilliseconds(_options.RetentionCheckIntervalMs);
        _retentionTimer = context.Time.CreateTimer(_ => CleanUp(), null, retentionInterval, retentionInterval);
        if (_options.FlushPolicy == FlushPolicy.Interval)
        {
            var interval = TimeSpan.FromMilliseconds(_options.FlushIntervalMs);
            _flushTimer = context.Time.CreateTimer(_ => FlushAll(), null, interval, interval);
        }
    }

    /// <summary>Idempotent producer ids, never reused.</summary>
    public ProducerIdBlocks ProducerIds { get; }

    [GeneratedRegex(@"^(?<topic>.+)-(?<partition>\d+)$")]
    private static partial Regex PartitionDirectoryName();

    private void LoadTopics(bool clean)
    {
        var partitionsByTopic = _context.Disk.DirectoryNames(_options.DataDir)
            .Select(d => PartitionDirectoryName().Match(d))
            .Where(m => m.Success && ValidateTopicName(m.Groups["topic"].Value) is null)
            .GroupBy(m => m.Groups["topic"].Value, m => int.Parse(m.Groups["partition"].Value));
        foreach (var group in partitionsByTopic)
        {
            var partitions = group.Order().ToList();
            try
            {
                if (LoadTopic(group.Key, partitions, clean) is { } topic) _topics[group.Key] = topic;
            }
            catch (TopicUnavailableException ex)
            {
                _unavailable[group.Key] = ex.Reason;
                _logger.LogError("Topic {Topic} is unavailable: {Reason}. Its files are left as they are; the other topics are served", group.Key, ex.Reason);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                _unavailable[group.Key] = ex.Message;
                _logger.LogError(ex, "Topic {Topic} could not be opened; its files are left as they are; the other topics are served", group.Key);
            }
        }
    }

    private TopicLog? LoadTopic(string name, List<int> partitions, bool clean)
    {
        var metadata = TopicLog.ReadMetadata(_context.Disk, _options.DataDir, name);
        if (metadata is null)
        {
            // A creation cut short before topic.json was written leaves only empty folders.
            if (partitions.All(p => HoldsNoRecords(TopicLog.PartitionDirectory(_options.DataDir, name, p))))
            {
                _logger.LogWarning("Topic {Topic}: removing folders of a creation that did not finish", name);
                RemoveFolders(name, partitions);
                return null;
            }
            throw new TopicUnavailableException(name, $"{Path.GetFullPath(TopicLog.MetadataPath(_options.DataDir, name))} is missing but its partitions hold records");
        }
        if (metadata.Deleted)
        {
            _logger.LogInformation("Topic {Topic}: finishing its deletion", name);
            RemoveFolders(name, partitions);
            return null;
        }
        var expected = metadata.PartitionCount ?? partitions.Count;
        // Folders beyond the count are an unfinished CreatePartitions: empty, and removed.
        var unfinished = partitions.Where(p => p >= expected).ToList();
        if (unfinished.Count > 0 && unfinished.All(p => HoldsNoRecords(TopicLog.PartitionDirectory(_options.DataDir, name, p))))
        {
            _logger.LogWarning("Topic {Topic}: removing partition folders {Partitions} of an addition that did not finish", name, string.Join(",", unfinished));
            RemoveFolders(name, unfinished);
            partitions = partitions.Where(p => p < expected).ToList();
        }
        if (partitions.Count != expected || partitions[0] != 0 || partitions[^1] != expected - 1)
            throw new TopicUnavailableException(name, $"has partition folders {string.Join(",", partitions)}, expected 0..{expected - 1}");
        return TopicLog.Load(_context, name, metadata, expected, clean);
    }

    /// <summary>No log file of the folder holds a byte other than zero (zeros may be written ahead of a log's end).</summary>
    private bool HoldsNoRecords(string directory) =>
        _context.Disk.FileNames(directory).Where(n => n.EndsWith(".log", StringComparison.Ordinal)).All(n =>
        {
            using var file = _context.Disk.Open(Path.Combine(directory, n), FileMode.Open);
            return LogSegment.IsAllZeros(file, 0, file.Length);
        });

    private void RemoveFolders(string name, IEnumerable<int> partitions)
    {
        var disk = _context.Disk;
        foreach (var p in partitions.OrderDescending()) disk.DeleteDirectoryAndFiles(TopicLog.PartitionDirectory(_options.DataDir, name, p));
        disk.SyncDirectory(_options.DataDir);
    }

    /// <summary>Topics by name, a snapshot.</summary>
    public IReadOnlyCollection<TopicLog> Topics => _topics.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();

    /// <summary>Topics whose files could not be opened, with the reason.</summary>
    public IReadOnlyDictionary<string, string> UnavailableTopics => _unavailable;

    public bool TryGetTopic(string name, out TopicLog topic) => _topics.TryGetValue(name, out topic!);

    /// <summary>A partition of an existing topic; throws when there is none.</summary>
    public PartitionLog Partition(string topic, int partition) =>
        TryGetTopic(topic, out var log) && partition >= 0 && partition < log.Partitions.Count
            ? log.Partitions[partition]
            : throw new KeyNotFoundException($"no partition {topic}-{partition}");

    /// <summary>Internal topics (<c>__consumer_offsets</c>) belong to the broker: clients may not delete them.</summary>
    public static bool IsInternal(string name) => name.StartsWith("__", StringComparison.Ordinal);

    /// <summary>Checks a topic name as Kafka does (1–249 chars of [a-zA-Z0-9._-], not "." or "..").</summary>
    /// <returns>null when valid, otherwise the reason.</returns>
    public static string? ValidateTopicName(string name)
    {
        if (string.IsNullOrEmpty(name)) return "topic name is empty";
        if (name is "." or "..") return $"topic name '{name}' is not allowed";
        if (name.Length > 249) return $"topic name is {name.Length} characters, the limit is 249";
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                return $"topic name '{name}' contains '{c}': only ASCII letters, digits, '.', '_' and '-' are allowed";
        }
        return null;
    }

    /// <summary>
    /// Creates the topic's partition folders and persists its configs; durable when this returns.
    /// Throws <see cref="TopicExistsException"/>, <see cref="InvalidTopicException"/> for a bad
    /// name, <see cref="InvalidPartitionsException"/> for a partition count out of range or past
    /// Broker:MaxPartitions, <see cref="InvalidConfigException"/> for a bad config,
    /// <see cref="TopicUnavailableException"/> when files of a topic of that name cannot be opened.
    /// </summary>
    public TopicLog CreateTopic(string name, int partitions, IReadOnlyDictionary<string, string?> configs)
    {
        if (ValidateTopicName(name) is { } problem) throw new InvalidTopicException(problem);
        if (partitions is < 1 or > 10_000) throw new InvalidPartitionsException($"partition count {partitions} must be between 1 and 10000");
        var valid = TopicConfig.Validate(configs);
        lock (_topicsLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_topics.ContainsKey(name)) throw new TopicExistsException($"Topic '{name}' already exists.");
            if (_unavailable.TryGetValue(name, out var reason)) throw new TopicUnavailableException(name, reason);
            if (PartitionsOverCap(partitions) is { } tooMany) throw new InvalidPartitionsException(tooMany);
            var topic = TopicLog.Create(_context, name, partitions, valid);
            _topics[name] = topic;
            _logger.LogInformation("Created topic {Topic} with {Partitions} partitions", name, partitions);
            return topic;
        }
    }

    /// <summary>
    /// Sets the topic's own configs to exactly <paramref name="configs"/> (AlterConfigs semantics:
    /// what is not named returns to its default), durably. Throws <see cref="InvalidConfigException"/>;
    /// false when there is no such topic.
    /// </summary>
    public bool AlterTopicConfigs(string name, IReadOnlyDictionary<string, string?> configs)
    {
        var valid = TopicConfig.Validate(configs);
        lock (_topicsLock)
        {
            if (!_topics.TryGetValue(name, out var topic)) return false;
            topic.ReplaceConfigs(valid);
            _logger.LogInformation("Topic {Topic} configs are now {Configs}", name, string.Join(", ", valid.Select(c => c.Key + "=" + c.Value)));
            return true;
        }
    }

    /// <summary>
    /// IncrementalAlterConfigs: applies SET, DELETE (back to the default), APPEND and SUBTRACT (list
    /// configs only) in order, then validates and stores the result durably, all or nothing. False
    /// when there is no such topic; <see cref="InvalidConfigException"/> for a bad name, value or operation.
    /// </summary>
    public bool IncrementalAlterTopicConfigs(string name, IReadOnlyList<(string Name, ConfigOperation Operation, string? Value)> changes)
    {
        lock (_topicsLock)
        {
            if (!_topics.TryGetValue(name, out var topic)) return false;
            var configs = topic.Configs.ToDictionary(c => c.Key, c => (string?)c.Value);
            foreach (var (config, operation, value) in changes)
            {
                if (!TopicConfig.Names.Contains(config)) throw new InvalidConfigException($"Unknown topic config '{config}'.");
                if (operation is ConfigOperation.Append or ConfigOperation.Subtract && !TopicConfig.IsList(config))
                    throw new InvalidConfigException($"Topic config '{config}' is not a list: {operation} does not apply to it.");
                var items = (configs.TryGetValue(config, out var current) && current is not null ? current : topic.EffectiveConfig(config))
                    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
                var given = (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                switch (operation)
                {
                    case ConfigOperation.Set: configs[config] = value; break;
                    case ConfigOperation.Delete: configs.Remove(config); break;
                    case ConfigOperation.Append: configs[config] = string.Join(",", items.Concat(given.Where(g => !items.Contains(g)))); break;
                    case ConfigOperation.Subtract: configs[config] = string.Join(",", items.Where(i => !given.Contains(i))); break;
                    default: throw new InvalidConfigException($"Unknown config operation {(int)operation}.");
                }
            }
            topic.ReplaceConfigs(TopicConfig.Validate(configs));
            return true;
        }
    }

    /// <summary>Why <paramref name="more"/> partitions may not be added (Broker:MaxPartitions), or null. Under the topics lock.</summary>
    private string? PartitionsOverCap(int more)
    {
        var held = _topics.Values.Sum(t => t.Partitions.Count);
        return held + more <= _options.MaxPartitions ? null
            : $"the broker holds {held} partitions, and {more} more would pass Broker:MaxPartitions ({_options.MaxPartitions}): each partition keeps its files open";
    }

    /// <summary>
    /// Adds partitions to a topic so that it has <paramref name="total"/>, durably. False when there
    /// is no such topic; <see cref="InvalidPartitionsException"/> when the count does not grow.
    /// </summary>
    public bool AddPartitions(string name, int total)
    {
        lock (_topicsLock)
        {
            if (!_topics.TryGetValue(name, out var topic)) return false;
            if (total <= topic.Partitions.Count)
                throw new InvalidPartitionsException($"Topic '{name}' has {topic.Partitions.Count} partitions; the new count {total} must be larger.");
            if (total > 10_000) throw new InvalidPartitionsException($"partition count {total} must be at most 10000");
            if (PartitionsOverCap(total - topic.Partitions.Count) is { } tooMany) throw new InvalidPartitionsException(tooMany);
            topic.AddPartitions(total);
            _logger.LogInformation("Topic {Topic} now has {Partitions} partitions", name, total);
            return true;
        }
    }

    /// <summary>
    /// Removes the topic and its files, durably. Appends in flight finish first; later ones fail.
    /// False when there was no such topic; throws <see cref="InvalidTopicException"/> for an internal topic.
    /// </summary>
    public bool DeleteTopic(string name)
    {
        if (IsInternal(name)) throw new InternalTopicException($"Topic '{name}' is internal to the broker and cannot be deleted.");
        lock (_topicsLock)
        {
            if (!_topics.TryGetValue(name, out var topic)) return false;
            topic.MarkDeleted(); // throws when it cannot be made durable: then nothing happened
            _topics.TryRemove(name, out _);
            try
            {
                topic.DeleteFiles();
            }
            catch (IOException ex)
            {
                _logger.LogWarning(ex, "Topic {Topic} is deleted, but removing its files failed; the next start finishes it", name);
            }
            _logger.LogInformation("Deleted topic {Topic}", name);
            return true;
        }
    }

    private void CleanUp()
    {
        // Timer callbacks can overlap when a pass is slow: one pass at a time.
        if (Interlocked.Exchange(ref _cleaning, 1) == 1) return;
        try
        {
            CleanUpAll();
        }
        finally
        {
            Volatile.Write(ref _cleaning, 0);
        }
    }

    /// <summary>One pass of compaction, retention and producer expiry over every partition (the timer runs it; tests call it).</summary>
    internal void CleanUpAll()
    {
        foreach (var partition in _topics.Values.SelectMany(t => t.Partitions))
        {
            try
            {
                var compacted = LogCleaner.Clean(partition, _context.Now, _logger);
                if (compacted > 0)
                    _logger.LogInformation("Compaction removed {Records} superseded records of {Topic}-{Partition}", compacted, partition.Topic, partition.Partition);
                var deleted = LogRetention.Apply(partition, _context.Now);
                if (deleted > 0)
                    _logger.LogInformation("Retention deleted {Segments} segments of {Topic}-{Partition}; log start offset is now {Offset}",
                        deleted, partition.Topic, partition.Partition, partition.LogStartOffset);
                partition.ExpireProducers(_options.ProducerIdExpirationMs);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidDataException)
            {
                _logger.LogError(ex, "Clean-up (compaction, retention) of {Topic}-{Partition} failed", partition.Topic, partition.Partition);
            }
        }
    }

    private void FlushAll()
    {
        foreach (var partition in _topics.Values.SelectMany(t => t.Partitions))
        {
            try { partition.Flush(); }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                _logger.LogError(ex, "Flush of {Topic}-{Partition} failed", partition.Topic, partition.Partition);
            }
        }
    }

    /// <summary>Syncs and closes every segment, then writes the clean-shutdown marker, unless a partition failed.</summary>
    public void Dispose()
    {
        lock (_topicsLock)
        {
            if (_disposed) return;
            _disposed = true;
            _flushTimer?.Dispose();
            _retentionTimer.Dispose();
            foreach (var topic in _topics.Values) topic.Close();
            var failed = _topics.Values.SelectMany(t => t.Partitions).Where(p => p.StorageError is not null).ToList();
            if (failed.Count > 0)
            {
                _logger.LogWarning("No clean-shutdown marker: {Count} partitions failed, the next start checks every segment", failed.Count);
                return;
            }
            _context.Disk.WriteAtomically(Path.Combine(_options.DataDir, CleanShutdownMarker), System.Text.Encoding.UTF8.GetBytes(_context.Now.ToString("O")));
        }
    }

    /// <summary>Drops every object without closing files or writing anything: what kill -9 leaves (simulation tests).</summary>
    internal void Abandon()
    {
        lock (_topicsLock)
        {
            _disposed = true;
            _flushTimer?.Dispose();
            _retentionTimer.Dispose();
            foreach (var topic in _topics.Values) topic.Abandon();
        }
    }
}

public sealed class TopicExistsException(string message) : Exception(message);

/// <summary>IncrementalAlterConfigs' operations, with Kafka's numbers.</summary>
public enum ConfigOperation : sbyte
{
    Set = 0,
    Delete = 1,
    Append = 2,
    Subtract = 3,
}

public sealed class InvalidTopicException(string message) : Exception(message);

/// <summary>A partition count that is not allowed (CreatePartitions that does not grow): Kafka's INVALID_PARTITIONS.</summary>
public sealed class InvalidPartitionsException(string message) : Exception(message);

/// <summary>An operation clients may not do on an internal topic: Kafka's INVALID_REQUEST.</summary>
public sealed class InternalTopicException(string message) : Exception(message);

/// <summary>A topic config that is unknown or has a bad value: Kafka's INVALID_CONFIG.</summary>
public sealed class InvalidConfigException(string message) : Exception(message);

/// <summary>A batch larger than the topic's max.message.bytes: Kafka's MESSAGE_TOO_LARGE.</summary>
public sealed class RecordTooLargeException(string message) : Exception(message);

/// <summary>Thrown for a batch that fails validation (CRC, magic, lengths, counts): Kafka's CORRUPT_MESSAGE.</summary>
public sealed class CorruptRecordException(string message) : Exception(message);

/// <summary>A fetch or lookup outside [LogStartOffset, LogEndOffset]: Kafka's OFFSET_OUT_OF_RANGE.</summary>
public sealed class OffsetOutOfRangeException(string message) : Exception(message);
