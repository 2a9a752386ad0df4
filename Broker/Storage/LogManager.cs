namespace Shop.Broker.Storage;

// CONTRACT (shared by the storage and protocol work): public signatures here are what the
// Apis layer calls. Bodies are filled in by the storage work; signatures change only by agreement.

/// <summary>
/// Every topic of the broker on disk: <c>&lt;DataDir&gt;/&lt;topic&gt;-&lt;partition&gt;/</c> in Kafka's layout,
/// loaded (and recovered) on start.
/// </summary>
public sealed class LogManager : IDisposable
{
    public LogManager(BrokerOptions options, ILoggerFactory loggerFactory) => throw new NotImplementedException();

    /// <summary>Topics by name, a snapshot.</summary>
    public IReadOnlyCollection<TopicLog> Topics => throw new NotImplementedException();

    public bool TryGetTopic(string name, out TopicLog topic) => throw new NotImplementedException();

    /// <summary>Checks a topic name as Kafka does (1–249 chars of [a-zA-Z0-9._-], not "." or "..").</summary>
    /// <returns>null when valid, otherwise the reason.</returns>
    public static string? ValidateTopicName(string name) => throw new NotImplementedException();

    /// <summary>
    /// Creates the topic's partition folders and persists its configs.
    /// Throws <see cref="TopicExistsException"/>, or <see cref="InvalidTopicException"/> for a bad
    /// name, partition count or config (message says which).
    /// </summary>
    public TopicLog CreateTopic(string name, int partitions, IReadOnlyDictionary<string, string?> configs) => throw new NotImplementedException();

    /// <summary>Removes the topic and its files. False when there was no such topic.</summary>
    public bool DeleteTopic(string name) => throw new NotImplementedException();

    /// <summary>Flushes and closes every segment, writing the clean-shutdown marker.</summary>
    public void Dispose() => throw new NotImplementedException();
}

public sealed class TopicExistsException(string message) : Exception(message);

public sealed class InvalidTopicException(string message) : Exception(message);

/// <summary>Thrown for a batch that fails validation (CRC, magic, lengths, counts): Kafka's CORRUPT_MESSAGE.</summary>
public sealed class CorruptRecordException(string message) : Exception(message);

/// <summary>A fetch or lookup outside [LogStartOffset, LogEndOffset]: Kafka's OFFSET_OUT_OF_RANGE.</summary>
public sealed class OffsetOutOfRangeException(string message) : Exception(message);
