using System.Text;
using System.Text.Json;
using Shop.Broker.Protocol;

namespace Shop.Broker.Console;

/// <summary>A header as the console shows it: text when it is UTF-8, hex otherwise.</summary>
public sealed record HeaderView(string Key, string? Value);

/// <summary>
/// A message as the console shows it: key and headers as text, the value pretty-printed when it
/// is JSON (<c>valueFormat</c> "json"), as text when it is UTF-8 ("text"), hex otherwise ("hex"),
/// and its trace, linked to the Aspire dashboard when the broker knows where that is.
/// </summary>
public sealed record MessageView(string Topic, int Partition, long Offset, long Timestamp, string? Key, IReadOnlyList<HeaderView> Headers,
    string? Value, string ValueFormat, string? TraceId, string? TraceUrl);

public static class ConsoleViews
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    // Relaxed escaping: the page shows text with textContent, and Cyrillic should read as Cyrillic.
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static MessageView Message(string topic, PartitionRecord message, string? dashboardUrl)
    {
        var record = message.Record;
        var (value, format) = Value(record.Value);
        var traceId = MessageBrowser.TraceId(record);
        return new MessageView(topic, message.Partition, record.Offset, record.Timestamp, Text(record.Key),
            record.Headers.Select(h => new HeaderView(h.Key, Text(h.Value))).ToList(), value, format, traceId,
            traceId is not null && dashboardUrl is { Length: > 0 } ? $"{dashboardUrl.TrimEnd('/')}/traces/detail/{traceId}" : null);
    }

    /// <summary>UTF-8 text, or hex when the bytes are not UTF-8 text.</summary>
    public static string? Text(byte[]? bytes) => bytes is null ? null : Utf8(bytes) ?? Hex(bytes);

    private static (string? Value, string Format) Value(byte[]? bytes)
    {
        if (bytes is null) return (null, "null");
        try
        {
            using var json = JsonDocument.Parse(bytes);
            return (JsonSerializer.Serialize(json.RootElement, Pretty), "json");
        }
        catch (JsonException)
        {
        }
        return Utf8(bytes) is { } text ? (text, "text") : (Hex(bytes), "hex");
    }

    private static string? Utf8(byte[] bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static string Hex(byte[] bytes) => "0x" + Convert.ToHexString(bytes).ToLowerInvariant();
}
