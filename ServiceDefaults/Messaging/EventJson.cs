using System.Text.Json;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>How events are written: JSON with the seed's snake_case field names.</summary>
public static class EventJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static byte[] Serialize(object value) => JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), Options);

    public static T Deserialize<T>(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"null {typeof(T).Name}");
}

/// <summary>Header names every shop message carries.</summary>
public static class MessageHeaders
{
    public const string EventType = "event-type";
    public const string MessageId = "message-id";
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";
    public const string Error = "error";
    public const string OriginalTopic = "original-topic";
    public const string OriginalPartition = "original-partition";
    public const string OriginalOffset = "original-offset";
    /// <summary>On a dead letter: how many times the consumer tried to handle it.</summary>
    public const string Attempts = "attempts";
}
