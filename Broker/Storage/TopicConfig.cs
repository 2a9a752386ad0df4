using System.Globalization;

namespace Shop.Broker.Storage;

/// <summary>Where a config's value comes from, as Kafka's DescribeConfigs reports it.</summary>
public enum ConfigSource
{
    /// <summary>Set on the topic.</summary>
    Topic = 1,

    /// <summary>A broker setting (appsettings, environment, command line) gives the default.</summary>
    StaticBroker = 4,

    /// <summary>Kafka's own default.</summary>
    Default = 5,
}

/// <summary>
/// Every topic config Kafka documents, with Kafka's names, defaults (from the broker's options where
/// this broker has a setting for it) and checks, so that tools that set any of them work. The ones
/// this broker applies: cleanup.policy, retention.ms, retention.bytes, segment.bytes, segment.ms,
/// max.message.bytes, message.timestamp.type. The others are validated, stored and described, and
/// have no effect here (most concern replication, tiered storage or tuning this broker does not
/// have; compression.type is kept as the producer compressed). Unknown names are refused.
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

    private const string LongMax = "9223372036854775807";

    private sealed record Definition(Func<BrokerOptions, string> Default, Func<string, string?> Check, bool Applied, bool IsList = false, string? BrokerSetting = null);

    private static Definition Long(string kafkaDefault, long minimum, bool applied = false) => new(_ => kafkaDefault, v => LongAtLeast(v, minimum), applied);

    private static Definition Int(string kafkaDefault, long minimum) => new(_ => kafkaDefault, v => LongAtLeast(v, minimum) ?? FitsInt(v), Applied: false);

    private static Definition Boolean(string kafkaDefault) => new(_ => kafkaDefault, v => v is "true" or "false" ? null : "must be true or false", Applied: false);

    private static Definition OneOf(string kafkaDefault, bool applied, params string[] allowed) =>
        new(_ => kafkaDefault, v => allowed.Contains(v) ? null : $"must be one of {string.Join(", ", allowed)}", applied);

    private static readonly Dictionary<string, Definition> Definitions = new()
    {
        [CleanupPolicy] = new(_ => "delete", CheckCleanupPolicy, Applied: true, IsList: true),
        [RetentionMs] = Long("604800000", -1, applied: true),
        [RetentionBytes] = Long("-1", -1, applied: true),
        [SegmentBytes] = new(o => o.SegmentBytes.ToString(CultureInfo.InvariantCulture), v => LongAtLeast(v, 1024) ?? FitsInt(v), Applied: true, BrokerSetting: "Broker:SegmentBytes"),
        [SegmentMs] = new(o => o.SegmentMs.ToString(CultureInfo.InvariantCulture), v => LongAtLeast(v, 1), Applied: true, BrokerSetting: "Broker:SegmentMs"),
        [MaxMessageBytes] = new(_ => "1048588", v => LongAtLeast(v, 0) ?? FitsInt(v), Applied: true),
        // LogAppendTime would rewrite each batch's timestamps inside the CRC: refused rather than ignored.
        [MessageTimestampType] = OneOf("CreateTime", applied: true, "CreateTime"),
        ["compression.type"] = OneOf("producer", applied: false, "producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"),
        ["delete.retention.ms"] = Long("86400000", 0),
        ["file.delete.delay.ms"] = Long("60000", 0),
        ["flush.messages"] = Long(LongMax, 1),
        ["flush.ms"] = Long(LongMax, 0),
        ["follower.replication.throttled.replicas"] = new(_ => "", _ => null, Applied: false, IsList: true),
        ["leader.replication.throttled.replicas"] = new(_ => "", _ => null, Applied: false, IsList: true),
        ["index.interval.bytes"] = Int("4096", 0),
        ["local.retention.bytes"] = Long("-2", -2),
        ["local.retention.ms"] = Long("-2", -2),
        ["max.compaction.lag.ms"] = Long(LongMax, 1),
        ["message.downconversion.enable"] = Boolean("true"),
        ["message.format.version"] = new(_ => "3.0-IV1", _ => null, Applied: false),
        ["message.timestamp.after.max.ms"] = Long(LongMax, 0),
        ["message.timestamp.before.max.ms"] = Long(LongMax, 0),
        ["message.timestamp.difference.max.ms"] = Long(LongMax, 0),
        ["min.cleanable.dirty.ratio"] = new(_ => "0.5", CheckRatio, Applied: false),
        ["min.compaction.lag.ms"] = Long("0", 0),
        ["min.insync.replicas"] = Int("1", 1),
        ["preallocate"] = Boolean("false"),
        ["remote.storage.enable"] = Boolean("false"),
        ["remote.log.copy.disable"] = Boolean("false"),
        ["remote.log.delete.on.disable"] = Boolean("false"),
        ["segment.index.bytes"] = Int("10485760", 4),
        ["segment.jitter.ms"] = Long("0", 0),
        ["unclean.leader.election.enable"] = Boolean("false"),
    };

    public static IEnumerable<string> Names => Definitions.Keys;

    /// <summary>Whether this broker acts on the config (the others are stored and described only).</summary>
    public static bool IsApplied(string name) => Definitions[name].Applied;

    /// <summary>A comma-separated list (APPEND and SUBTRACT apply to these).</summary>
    public static bool IsList(string name) => Definitions.TryGetValue(name, out var definition) && definition.IsList;

    /// <summary>Where the value in force comes from when the topic does not set it.</summary>
    public static ConfigSource DefaultSource(string name, BrokerOptions options)
    {
        var definition = Definitions[name];
        return definition.BrokerSetting is not null && definition.Default(options) != definition.Default(new BrokerOptions())
            ? ConfigSource.StaticBroker
            : ConfigSource.Default;
    }

    /// <summary>Throws <see cref="InvalidConfigException"/> naming the first unknown or invalid config.</summary>
    public static Dictionary<string, string> Validate(IReadOnlyDictionary<string, string?> configs)
    {
        var valid = new Dictionary<string, string>();
        foreach (var (name, value) in configs)
        {
            if (!Definitions.TryGetValue(name, out var definition))
                throw new InvalidConfigException($"Unknown topic config '{name}'. Known: {string.Join(", ", Definitions.Keys.Order())}.");
            if (value is null) continue;
            if (definition.Check(value) is { } problem)
                throw new InvalidConfigException($"Invalid value '{value}' for topic config '{name}': {problem}.");
            valid[name] = value;
        }
        return valid;
    }

    public static string Default(string name, BrokerOptions options) => Definitions[name].Default(options);

    private static string? CheckCleanupPolicy(string value)
    {
        var parts = value.Split(',', StringSplitOptions.TrimEntries);
        return parts.Length is 1 or 2 && parts.All(p => p is "delete" or "compact") && parts.Distinct().Count() == parts.Length
            ? null
            : "must be delete, compact or compact,delete";
    }

    private static string? CheckRatio(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0 and <= 1 ? null : "must be a number from 0 to 1";

    private static string? LongAtLeast(string value, long minimum) =>
        !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? "must be an integer"
        : n < minimum ? $"must be at least {minimum}" : null;

    private static string? FitsInt(string value) => long.Parse(value, CultureInfo.InvariantCulture) > int.MaxValue ? "must fit in 32 bits" : null;
}
