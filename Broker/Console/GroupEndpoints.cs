using Shop.Broker.Groups;
using Shop.Broker.Security;
using Shop.Broker.Storage;

namespace Shop.Broker.Console;

/// <summary>Consumer groups: state, members and their partitions, lag per partition; reset offsets while empty; delete.</summary>
internal static class GroupEndpoints
{
    /// <summary>
    /// Where to move the group's committed offsets: "earliest", "latest", "timestamp" (with
    /// <c>Timestamp</c>, ms since 1970) or "offset" (with <c>Offset</c>). Every partition it has
    /// committed to, or only those of <c>Topic</c> (then every partition of that topic).
    /// </summary>
    public sealed record ResetOffsets(string? To, long? Timestamp, long? Offset, string? Topic);

    public static void MapGroupEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/groups", (HttpContext context, GroupCoordinator groups, ConsoleAccess access) => TypedResults.Ok(groups.GroupIds
            .Where(g => access.Allows(context, AclOperation.Describe, ResourceType.Group, g))
            .Select(g => Describe(groups, g))));

        api.MapGet("/groups/{groupId}", (string groupId, HttpContext context, GroupCoordinator groups, ConsoleAccess access) =>
        {
            access.Demand(context, AclOperation.Describe, ResourceType.Group, groupId);
            if (!groups.GroupIds.Contains(groupId)) throw NotFound(groupId);
            return TypedResults.Ok(Describe(groups, groupId));
        });

        api.MapPost("/groups/{groupId}/offsets/reset", async (string groupId, ResetOffsets request, HttpContext context, GroupCoordinator groups,
            LogManager logs, ConsoleAccess access) =>
        {
            access.Demand(context, AclOperation.Read, ResourceType.Group, groupId);
            var partitions = Partitions(groups, logs, groupId, request.Topic);
            foreach (var topic in partitions.Select(p => p.Topic).Distinct()) access.Demand(context, AclOperation.Read, ResourceType.Topic, topic);
            var offsets = partitions.Select(p => (p, Target(logs.Partition(p.Topic, p.Partition), request))).ToList();
            if (!await groups.ResetOffsetsAsync(groupId, offsets, context.RequestAborted))
                throw new ConsoleConflictException($"Group '{groupId}' has members ({Members(groups, groupId)}): Kafka resets offsets only while a group is empty. Stop its consumers first.");
            return TypedResults.Ok(Describe(groups, groupId));
        });

        api.MapDelete("/groups/{groupId}", async (string groupId, HttpContext context, GroupCoordinator groups, ConsoleAccess access) =>
        {
            access.Demand(context, AclOperation.Delete, ResourceType.Group, groupId);
            if (!groups.GroupIds.Contains(groupId)) throw NotFound(groupId);
            if (!await groups.DeleteAsync(groupId, context.RequestAborted))
                throw new ConsoleConflictException($"Group '{groupId}' has members ({Members(groups, groupId)}): only an empty group can be deleted.");
            return TypedResults.NoContent();
        });
    }

    private static ConsoleNotFoundException NotFound(string groupId) => new($"There is no group '{groupId}'.");

    private static string Members(GroupCoordinator groups, string groupId) =>
        string.Join(", ", groups.Describe(groupId).Members.Select(m => $"{m.ClientId} on {m.ClientHost}"));

    private static List<TopicPartitionKey> Partitions(GroupCoordinator groups, LogManager logs, string groupId, string? topicName)
    {
        if (topicName is { Length: > 0 })
        {
            if (!logs.TryGetTopic(topicName, out var topic)) throw new ConsoleNotFoundException($"There is no topic '{topicName}'.");
            return topic.Partitions.Select(p => new TopicPartitionKey(topicName, p.Partition)).ToList();
        }
        var committed = groups.Offsets.Of(groupId).Keys.Where(k => logs.TryGetTopic(k.Topic, out var t) && k.Partition < t.Partitions.Count).ToList();
        return committed.Count > 0 ? committed
            : throw new ArgumentException($"Group '{groupId}' has committed no offsets: say which topic to reset it on.");
    }

    private static long Target(PartitionLog log, ResetOffsets request) => (request.To ?? "").ToLowerInvariant() switch
    {
        "earliest" => log.LogStartOffset,
        "latest" => log.HighWatermark,
        "timestamp" => log.FindOffsetByTimestamp(request.Timestamp ?? throw new ArgumentException("to=timestamp needs a timestamp (ms since 1970)."))?.Offset
            ?? log.HighWatermark,
        "offset" => Math.Clamp(request.Offset ?? throw new ArgumentException("to=offset needs an offset."), log.LogStartOffset, log.HighWatermark),
        _ => throw new ArgumentException($"to must be earliest, latest, timestamp or offset, not '{request.To}'."),
    };

    private static object Describe(GroupCoordinator groups, string groupId)
    {
        var group = groups.Describe(groupId);
        var lag = groups.Lag(groupId).ToList();
        return new
        {
            groupId,
            state = group.State.ToString(),
            protocolType = group.ProtocolType,
            protocol = group.Protocol,
            members = group.Members.Select(m => new
            {
                memberId = m.MemberId,
                groupInstanceId = m.GroupInstanceId,
                clientId = m.ClientId,
                clientHost = m.ClientHost,
                assignment = ConsumerAssignment.Partitions(m.Assignment).Select(p => new { topic = p.Topic, partition = p.Partition }),
            }),
            totalLag = lag.Sum(l => l.Lag),
            offsets = lag.Select(l => new
            {
                topic = l.Topic,
                partition = l.Partition,
                committedOffset = l.CommittedOffset,
                logStartOffset = l.LogStartOffset,
                highWatermark = l.HighWatermark,
                lag = l.Lag,
            }),
        };
    }
}
