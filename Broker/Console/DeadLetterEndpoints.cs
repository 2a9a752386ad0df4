using Shop.Broker.Security;

namespace Shop.Broker.Console;

/// <summary>Dead-letter topics with each letter's error and origin; replay one or all.</summary>
internal static class DeadLetterEndpoints
{
    /// <summary>Which dead letter to replay; without partition and offset, every one not replayed yet.</summary>
    public sealed record ReplayRequest(int? Partition, long? Offset);

    public static void MapDeadLetterEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/dead-letters", (HttpContext context, DeadLetters letters, ConsoleAccess access, BrokerOptions options) => TypedResults.Ok(letters.Topics
            .Where(t => access.Allows(context, AclOperation.Read, ResourceType.Topic, t))
            .Select(topic =>
            {
                var list = letters.List(topic);
                return new
                {
                    topic,
                    originTopic = topic[..^DeadLetters.Suffix.Length],
                    count = list.Count,
                    pending = list.Count(l => !l.Replayed),
                    letters = list.Select(l => new
                    {
                        partition = l.Partition,
                        offset = l.Record.Offset,
                        error = l.Error,
                        originalTopic = l.OriginalTopic,
                        originalPartition = l.OriginalPartition,
                        originalOffset = l.OriginalOffset,
                        attempts = l.Attempts,
                        replayed = l.Replayed,
                        message = ConsoleViews.Message(topic, new PartitionRecord(l.Partition, l.Record), options.DashboardUrl),
                    }),
                };
            })));

        api.MapPost("/dead-letters/{topic}/replay", async (string topic, ReplayRequest? request, HttpContext context, DeadLetters letters, ConsoleAccess access) =>
        {
            if (!DeadLetters.IsDeadLetterTopic(topic)) throw new ConsoleNotFoundException($"'{topic}' is not a dead-letter topic (those end in {DeadLetters.Suffix}).");
            access.Demand(context, AclOperation.Read, ResourceType.Topic, topic);
            access.Demand(context, AclOperation.Write, ResourceType.Topic, topic[..^DeadLetters.Suffix.Length]);
            var principal = ConsoleAccess.Principal(context);
            IReadOnlyList<Replay> replays = request is { Partition: { } partition, Offset: { } offset }
                ? [await letters.ReplayOneAsync(topic, partition, offset, principal, context.RequestAborted)]
                : await letters.ReplayAllAsync(topic, principal, context.RequestAborted);
            return TypedResults.Ok(new { replayed = replays });
        });
    }
}
