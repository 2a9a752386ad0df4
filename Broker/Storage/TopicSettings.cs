using System.Globalization;

namespace Shop.Broker.Storage;

/// <summary>
/// A topic's configs in force, parsed once (when the topic is opened or its configs change) rather
/// than on every append.
/// </summary>
public sealed record TopicSettings(
    bool Delete,
    bool Compact,
    long RetentionMs,
    long RetentionBytes,
    long SegmentBytes,
    long SegmentMs,
    long MaxMessageBytes)
{
    /// <summary>Reads the effective value of each config (the topic's own, else the default); values were validated on the way in.</summary>
    public static TopicSettings From(Func<string, string> effective)
    {
        var policy = effective(TopicConfig.CleanupPolicy);
        return new TopicSettings(
            Delete: policy.Contains("delete", StringComparison.Ordinal),
            Compact: policy.Contains("compact", StringComparison.Ordinal),
            RetentionMs: Long(TopicConfig.RetentionMs),
            RetentionBytes: Long(TopicConfig.RetentionBytes),
            SegmentBytes: Long(TopicConfig.SegmentBytes),
            SegmentMs: Long(TopicConfig.SegmentMs),
            MaxMessageBytes: Long(TopicConfig.MaxMessageBytes));

        long Long(string name) => long.Parse(effective(name), CultureInfo.InvariantCulture);
    }
}
