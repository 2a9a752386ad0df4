namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// An event of the shop. It names its topic, and the key that keeps its order: events with one key
/// share a partition. Each topic's events live in that topic's contracts project (<c>Contracts/</c>).
/// </summary>
public interface IShopEvent
{
    static abstract TopicSpec Topic { get; }

    /// <summary>The record key (the order or the product the event is about).</summary>
    string PartitionKey();
}

/// <summary>A topic as the shop creates it; every topic has a dead-letter twin <c>&lt;topic&gt;.dlq</c>.</summary>
public sealed record TopicSpec(string Name, int Partitions, bool Compacted = false)
{
    public const string DeadLetterSuffix = ".dlq";

    public static string DeadLetterOf(string topic) => topic + DeadLetterSuffix;

    public TopicSpec DeadLetter => new(DeadLetterOf(Name), 1);

    public IReadOnlyDictionary<string, string> Configs =>
        Compacted ? new Dictionary<string, string> { ["cleanup.policy"] = "compact" } : new Dictionary<string, string>();
}
