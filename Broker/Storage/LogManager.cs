using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Shop.Broker.Storage;

/// <summary>
/// Every topic of the broker on disk: <c>&lt;DataDir&gt;/&lt;topic&gt;-&lt;partition&gt;/</c> in Kafka's layout,
/// loaded (and recovered) on start. A <c>.clean-shutdown</c> marker, written on dispose and removed
/// on start, tells the next start whether it must check every segment or only the active ones.
/// </summary>
public sealed partial class LogManager : IDisposable
{
    public const string CleanShutdownMarker = ".clean-shutdown";

    private readonly BrokerOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, TopicLog> _topics = new();
    private readonly Lock _topicsLock = new();
    private readonly Timer? _flushTimer;
    private readonly Timer _retentionTimer;
    private int _cleaning;
    private bool _disposed;

    public LogManager(BrokerOptions options, ILoggerFactory loggerFactory)
    {
        _options = options;
        _logger = loggerFactory.CreateLogger<LogManager>();
        Directory.CreateDirectory(options.DataDir);
        var marker = Path.Combine(options.DataDir, CleanShutdownMarker);
        var clean = File.Exists(marker);
        File.Delete(marker);
        LoadTopics(clean);
        _logger.LogInformation("Loaded {Count} topics from {DataDir} after a{Kind} shutdown",
            _topics.Count, Path.GetFullPath(options.DataDir), clean ? " clean" : "n unclean (or first)");
        var retentionInterval = TimeSpan.FromMilliseconds(options.RetentionCheckIntervalMs);
        _retentionTimer = new Timer(_ => CleanUp(), null, retentionInterval, retentionInterval);
        if (options.FlushPolicy == FlushPolicy.Interval)
        {
            var interval = TimeSpan.FromMilliseconds(options.FlushIntervalMs);
            _flushTimer = new Timer(_ => FlushAll(), null, interval, interval);
        }
    }

    [GeneratedRegex(@"^(?<topic>.+)-(?<partition>\d+)$")]
    private static partial Regex PartitionDirectoryName();

    private void LoadTopics(bool clean)
    {
        var partitionsByTopic = Directory.EnumerateDirectories(_options.DataDir)
            .Select(d => PartitionDirectoryName().Match(Path.GetFileName(d)))
            .Where(m => m.Success && ValidateTopicName(m.Groups["topic"].Value) is null)
            .GroupBy(m => m.Groups["topic"].Value, m => int.Parse(m.Groups["partition"].Value));
        foreach (var group in partitionsByTopic)
        {
            var partitions = group.Order().ToList();
            if (partitions[0] != 0 || partitions[^1] != partitions.Count - 1)
            {
                _logger.LogError("Topic {Topic} has partition folders {Partitions}, not 0..n-1: skipped, files left as they are",
                    group.Key, string.Join(",", partitions));
                continue;
            }
            _topics[group.Key] = TopicLog.Load(_options.DataDir, group.Key, partitions.Count, _options, clean, _logger);
        }
    }

    /// <summary>Topics by name, a snapshot.</summary>
    public IReadOnlyCollection<TopicLog> Topics => _topics.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();

    public bool TryGetTopic(string name, out TopicLog topic) => _topics.TryGetValue(name, out topic!);

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
    /// Creates the topic's partition folders and persists its configs.
    /// Throws <see cref="TopicExistsException"/>, <see cref="InvalidTopicException"/> for a bad
    /// name or partition count, <see cref="InvalidConfigException"/> for a bad config.
    /// </summary>
    public TopicLog CreateTopic(string name, int partitions, IReadOnlyDictionary<string, string?> configs)
    {
        if (ValidateTopicName(name) is { } problem) throw new InvalidTopicException(problem);
        if (partitions is < 1 or > 10_000) throw new InvalidTopicException($"partition count {partitions} must be between 1 and 10000");
        var valid = TopicConfig.Validate(configs);
        lock (_topicsLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_topics.ContainsKey(name)) throw new TopicExistsException($"Topic '{name}' already exists.");
            var topic = TopicLog.Create(_options.DataDir, name, partitions, valid, _options, _logger);
            _topics[name] = topic;
            _logger.LogInformation("Created topic {Topic} with {Partitions} partitions", name, partitions);
            return topic;
        }
    }

    /// <summary>Removes the topic and its files. False when there was no such topic.</summary>
    public bool DeleteTopic(string name)
    {
        lock (_topicsLock)
        {
            if (!_topics.TryRemove(name, out var topic)) return false;
            topic.DeleteFiles();
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

    private void CleanUpAll()
    {
        foreach (var partition in _topics.Values.SelectMany(t => t.Partitions))
        {
            try
            {
                var compacted = partition.Compact();
                if (compacted > 0)
                    _logger.LogInformation("Compaction removed {Records} superseded records of {Topic}-{Partition}", compacted, partition.Topic, partition.Partition);
                var deleted = partition.ApplyRetention(DateTimeOffset.UtcNow);
                if (deleted > 0)
                    _logger.LogInformation("Retention deleted {Segments} segments of {Topic}-{Partition}; log start offset is now {Offset}",
                        deleted, partition.Topic, partition.Partition, partition.LogStartOffset);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                _logger.LogError(ex, "Clean-up (compaction, retention) of {Topic}-{Partition} failed", partition.Topic, partition.Partition);
            }
        }
    }

    private void FlushAll()
    {
        foreach (var topic in _topics.Values)
        {
            foreach (var partition in topic.Partitions)
            {
                try { partition.Flush(); }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException)
                {
                    _logger.LogError(ex, "Flush of {Topic}-{Partition} failed", partition.Topic, partition.Partition);
                }
            }
        }
    }

    /// <summary>Flushes and closes every segment, writing the clean-shutdown marker.</summary>
    public void Dispose()
    {
        lock (_topicsLock)
        {
            if (_disposed) return;
            _disposed = true;
            _flushTimer?.Dispose();
            _retentionTimer.Dispose();
            foreach (var topic in _topics.Values) topic.Dispose();
            File.WriteAllText(Path.Combine(_options.DataDir, CleanShutdownMarker), DateTimeOffset.UtcNow.ToString("O"));
        }
    }
}

public sealed class TopicExistsException(string message) : Exception(message);

public sealed class InvalidTopicException(string message) : Exception(message);

/// <summary>A topic config that is unknown or has a bad value: Kafka's INVALID_CONFIG.</summary>
public sealed class InvalidConfigException(string message) : Exception(message);

/// <summary>A batch larger than the topic's max.message.bytes: Kafka's MESSAGE_TOO_LARGE.</summary>
public sealed class RecordTooLargeException(string message) : Exception(message);

/// <summary>Thrown for a batch that fails validation (CRC, magic, lengths, counts): Kafka's CORRUPT_MESSAGE.</summary>
public sealed class CorruptRecordException(string message) : Exception(message);

/// <summary>A fetch or lookup outside [LogStartOffset, LogEndOffset]: Kafka's OFFSET_OUT_OF_RANGE.</summary>
public sealed class OffsetOutOfRangeException(string message) : Exception(message);
