using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using Shop.Broker.Protocol;
using Shop.Broker.Security;

namespace Shop.Broker.Console;

/// <summary>Messages of a topic: a page from a place, a live tail (server-sent events), produce one, every message of a trace.</summary>
internal static class MessageEndpoints
{
    /// <summary>A message to produce: the value is JSON; without a partition the key picks one.</summary>
    public sealed record ProduceMessage(int? Partition, string? Key, Dictionary<string, string?>? Headers, JsonElement? Value);

    public static void MapMessageEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/topics/{name}/messages", (string name, int? partition, string? from, long? offset, long? timestamp, int? limit, string? filter,
            HttpContext context, MessageBrowser browser, ConsoleAccess access, BrokerOptions options) =>
        {
            access.Demand(context, AclOperation.Read, ResourceType.Topic, name);
            var start = (from ?? "newest").ToLowerInvariant() switch
            {
                "oldest" => BrowseStart.Oldest,
                "newest" => BrowseStart.Newest,
                "offset" => offset is null ? throw new ArgumentException("from=offset needs offset=<n>.") : BrowseStart.Offset,
                "timestamp" => timestamp is null ? throw new ArgumentException("from=timestamp needs timestamp=<ms since 1970>.") : BrowseStart.Timestamp,
                _ => throw new ArgumentException($"from must be oldest, newest, offset or timestamp, not '{from}'."),
            };
            var page = browser.Browse(new BrowseQuery(name, partition, start, offset, timestamp, limit ?? 50, filter));
            return TypedResults.Ok(new
            {
                messages = page.Messages.Select(m => ConsoleViews.Message(name, m, options.DashboardUrl)),
                nextOffsets = page.NextOffsets,
            });
        });

        api.MapGet("/topics/{name}/tail", (string name, int? partition, string? filter, HttpContext context, MessageBrowser browser, ConsoleAccess access,
            BrokerOptions options) =>
        {
            access.Demand(context, AclOperation.Read, ResourceType.Topic, name);
            var messages = browser.Tail(name, partition, filter, context.RequestAborted);
            return TypedResults.ServerSentEvents(Events(name, messages, options.DashboardUrl));
        });

        api.MapPost("/topics/{name}/messages", async (string name, ProduceMessage request, HttpContext context, ConsoleProducer producer,
            ConsoleAccess access) =>
        {
            access.Demand(context, AclOperation.Write, ResourceType.Topic, name);
            if (request.Value is not { } value) throw new ArgumentException("Give the message a JSON value.");
            var headers = (request.Headers ?? []).Select(h => new RecordHeader(h.Key, h.Value is null ? null : Encoding.UTF8.GetBytes(h.Value))).ToList();
            var key = request.Key is { Length: > 0 } k ? Encoding.UTF8.GetBytes(k) : null;
            var produced = await producer.ProduceAsync(name, request.Partition, key, Encoding.UTF8.GetBytes(value.GetRawText()), headers, context.RequestAborted);
            return TypedResults.Created($"/api/topics/{Uri.EscapeDataString(name)}/messages?partition={produced.Partition}&from=offset&offset={produced.Offset}&limit=1", produced);
        });

        api.MapGet("/traces/{traceId}", (string traceId, HttpContext context, MessageBrowser browser, ConsoleAccess access, BrokerOptions options) =>
        {
            if (traceId.Length != 32 || !traceId.All(Uri.IsHexDigit)) throw new ArgumentException("A trace id is 32 hex digits.");
            var found = browser.FindTrace(traceId.ToLowerInvariant())
                .Where(f => access.Allows(context, AclOperation.Read, ResourceType.Topic, f.Topic));
            return TypedResults.Ok(new { traceId, messages = found.Select(f => ConsoleViews.Message(f.Topic, f.Message, options.DashboardUrl)) });
        });
    }

    /// <summary>
    /// A "ready" event first, so the response starts at once (a client knows the tail is open before
    /// anything is produced), then one "message" event per record.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<object>> Events(string topic, IAsyncEnumerable<PartitionRecord> messages, string? dashboardUrl)
    {
        yield return new SseItem<object>(new { topic }, "ready");
        await foreach (var message in messages) yield return new SseItem<object>(ConsoleViews.Message(topic, message, dashboardUrl), "message");
    }
}
