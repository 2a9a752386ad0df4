using System.Globalization;

namespace Shop.Broker.Storage;

/// <summary>
/// The topic configs this broker understands, with Kafka's names, their defaults (from the broker's
/// options where Kafka has a broker-level default) and their checks. Unknown names are refused
/// rather than silently ignored.
/// </summary>
public static class TopicConfig
{
    public const string CleanupPolicy = "cleanup.policy";
    public const string RetentionMs = "retention.ms";
    public const string RetentionBytes = "retention.bytes";
    public const string SegmentBytes = "segment.bytes";
    public const string SegmentMs = "segment.ms";
    public const string MaxMessageBytes = "max.message.bytes";
    public const string MessageTimestampType = "message.timestamp.type";

    private sealed record Definition(Func<BrokerOptions, string> Default, Func<string, string?> Check);

    private static readonly Dictionary<string, Definition> Definitions = new()
    {
        [CleanupPolicy] = new(_ => "delete", v => v is "delete" or "compact" or "compact,delete" or "delete,compact" ? null : "must be delete, compact or compact,delete"),
        [RetentionMs] = new(_ => "604800000", v => LongAtLeast(v, -1)),
        [RetentionBytes] = new(_ => "-1", v => LongAtLeast(v, -1)),
        [SegmentBytes] = new(o => o.SegmentBytes.ToString(CultureInfo.InvariantCulture), v => LongAtLeast(v, 1024) ?? (long.Parse(v, CultureInfo.InvariantCulture) > int.MaxValue ? "must fit in 32 bits" : null)),
        [SegmentMs] = new(o => o.SegmentMs.ToString(CultureInfo.InvariantCulture), v => LongAtLeast(v, 1)),
        [MaxMessageBytes] = new(_ => "1048588", v => LongAtLeast(v, 0)),
        // LogAppendTime would rewrite each batch's timestamps inside the CRC; not supported.
        [MessageTimestampType] = new(_ => "CreateTime", v => v == "CreateTime" ? null : "only CreateTime is supported"),
    };

    public static IEnumerable<string> Names => Definitions.Keys;

    /// <summary>Throws <see cref="InvalidTopicException"/> naming the first unknown or invalid config.</summary>
    public static Dictionary<string, string> Validate(IReadOnlyDictionary<string, string?> configs)
    {
        var valid = new Dictionary<string, string>();
        foreach (var (name, value) in configs)
        {
            if (!Definitions.TryGetValue(name, out var definition))
                throw new InvalidConfigException($"Unknown topic config '{name}'. Supported: {string.Join(", ", Definitions.Keys)}.");
            if (value is null) continue;
            if (definition.Check(value) is { } problem)
                throw new InvalidConfigException($"Invalid value '{value}' for topic config '{name}': {problem}.");
            valid[name] = value;
        }
        return valid;
    }

    public static string Default(string name, BrokerOptions options) => Definitions[name].Default(options);

    private static string? LongAtLeast(string value, long minimum) =>
        !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? "must be an integer"
        : n < minimum ? $"must be at least {minimum}" : null;
}
