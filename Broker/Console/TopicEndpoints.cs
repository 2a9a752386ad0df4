using Shop.Broker.Security;
using Shop.Broker.Storage;

namespace Shop.Broker.Console;

/// <summary>Topics: list with partitions, offsets, sizes and configs; create; edit configs; add partitions; delete.</summary>
internal static class TopicEndpoints
{
    public sealed record CreateTopic(string? Name, int? Partitions, Dictionary<string, string?>? Configs);

    /// <summary>Configs to set; a null value returns that config to its default.</summary>
    public sealed record EditConfigs(Dictionary<string, string?>? Configs);

    public sealed record AddPartitions(int? Partitions);

    public static void MapTopicEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/topics", (HttpContext context, LogManager logs, ConsoleAccess access) => TypedResults.Ok(logs.Topics
            .Where(t => access.Allows(context, AclOperation.Describe, ResourceType.Topic, t.Name))
            .Select(Describe)));

        api.MapGet("/topics/{name}", (string name, HttpContext context, LogManager logs, ConsoleAccess access) =>
        {
            access.Demand(context, AclOperation.Describe, ResourceType.Topic, name);
            return TypedResults.Ok(Describe(Find(logs, name)));
        });

        api.MapPost("/topics", (CreateTopic request, HttpContext context, LogManager logs, ConsoleAccess access, BrokerOptions options) =>
        {
            var name = request.Name?.Trim() ?? throw new ArgumentException("Give the topic a name.");
            if (!access.Allows(context, AclOperation.Create, ResourceType.Cluster, Security.AclBinding.ClusterName))
                access.Demand(context, AclOperation.Create, ResourceType.Topic, name);
            var topic = logs.CreateTopic(name, request.Partitions ?? options.DefaultPartitions, request.Configs ?? []);
            return TypedResults.Created($"/api/topics/{Uri.EscapeDataString(topic.Name)}", Describe(topic));
        });

        api.MapPatch("/topics/{name}/configs", (string name, EditConfigs request, HttpContext context, LogManager logs, ConsoleAccess access) =>
        {
            access.Demand(context, AclOperation.AlterConfigs, ResourceType.Topic, name);
            var changes = (request.Configs ?? []).Select(c => (c.Key, c.Value is null ? ConfigOperation.Delete : ConfigOperation.Set, c.Value)).ToList();
            if (!logs.IncrementalAlterTopicConfigs(name, changes)) throw NotFound(name);
            return TypedResults.Ok(Describe(Find(logs, name)));
        });

        api.MapPost("/topics/{name}/partitions", (string name, AddPartitions request, HttpContext context, LogManager logs, ConsoleAccess access) =>
        {
            access.Demand(context, AclOperation.Alter, ResourceType.Topic, name);
            if (!logs.AddPartitions(name, request.Partitions ?? throw new ArgumentException("Say how many partitions the topic should have."))) throw NotFound(name);
            return TypedResults.Ok(Describe(Find(logs, name)));
        });

        api.MapDelete("/topics/{name}", (string name, HttpContext context, LogManager logs, ConsoleAccess access) =>
        {
            access.Demand(context, AclOperation.Delete, ResourceType.Topic, name);
            if (!logs.DeleteTopic(name)) throw NotFound(name);
            return TypedResults.NoContent();
        });
    }

    private static TopicLog Find(LogManager logs, string name) => logs.TryGetTopic(name, out var topic) ? topic : throw NotFound(name);

    private static ConsoleNotFoundException NotFound(string name) => new($"There is no topic '{name}'.");

    private static object Describe(TopicLog topic) => new
    {
        name = topic.Name,
        topicId = topic.TopicId,
        @internal = LogManager.IsInternal(topic.Name),
        deadLetters = DeadLetters.IsDeadLetterTopic(topic.Name),
        configs = topic.Configs,
        effectiveConfigs = topic.DescribeConfigs().Select(c => new { name = c.Name, value = c.Value, isDefault = c.IsDefault }),
        sizeBytes = topic.Partitions.Sum(p => p.SizeBytes),
        messages = topic.Partitions.Sum(p => p.HighWatermark - p.LogStartOffset),
        partitions = topic.Partitions.Select(p => new
        {
            partition = p.Partition,
            logStartOffset = p.LogStartOffset,
            highWatermark = p.HighWatermark,
            logEndOffset = p.LogEndOffset,
            sizeBytes = p.SizeBytes,
            segments = p.SegmentCount,
            storageError = p.StorageError,
        }),
    };
}
