using Shop.Broker.Groups;
using Shop.Broker.Storage;

namespace Shop.Broker.Console;

/// <summary>
/// The HTTP admin API (JSON, read-only): topics, partitions and offsets, groups and their lag,
/// listeners, principals and ACLs; and the console page that shows them.
/// </summary>
public static class ConsoleApi
{
    public static WebApplication MapConsoleApi(this WebApplication app)
    {
        app.MapGet("/", () => TypedResults.Content(ConsolePage.Html, "text/html"));
        app.MapGet("/api/topics", (LogManager logs) => TypedResults.Ok(logs.Topics.Select(t => new
        {
            name = t.Name,
            topicId = t.TopicId,
            configs = t.Configs,
            partitions = t.Partitions.Select(p => new
            {
                partition = p.Partition,
                logStartOffset = p.LogStartOffset,
                highWatermark = p.HighWatermark,
                logEndOffset = p.LogEndOffset,
                storageError = p.StorageError,
                sizeBytes = p.SizeBytes,
                segments = p.SegmentCount,
            }),
        })));
        app.MapGet("/api/groups", (GroupCoordinator groups) => TypedResults.Ok(groups.GroupIds.Select(groups.Describe).Select(g => new
        {
            groupId = g.GroupId,
            state = g.State.ToString(),
            protocol = g.Protocol,
            members = g.Members.Select(m => new { memberId = m.MemberId, clientId = m.ClientId, clientHost = m.ClientHost }),
        })));
        app.MapGet("/api/groups/{groupId}/lag", (string groupId, GroupCoordinator groups) => TypedResults.Ok(groups.Lag(groupId)
            .Select(l => new { topic = l.Topic, partition = l.Partition, committedOffset = l.CommittedOffset, logStartOffset = l.LogStartOffset, highWatermark = l.HighWatermark, lag = l.Lag })));
        app.MapGet("/api/security", (BrokerOptions options, Security.CredentialStore credentials, Security.Authorizer authorizer) => TypedResults.Ok(new
        {
            listeners = Network.KafkaEndpoint.From(options).Select(e => e.ToString()),
            aclsEnabled = authorizer.Enabled,
            superUsers = authorizer.SuperUsers.Order(StringComparer.Ordinal),
            // Names and mechanisms only: nothing secret leaves the broker.
            users = credentials.Describe().OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => new
            {
                principal = $"User:{u.Key}",
                mechanisms = u.Value.Select(m => $"{m.Mechanism.Name} ({m.Iterations} iterations)"),
            }),
            acls = authorizer.Acls.All.Select(a => new
            {
                acl = a.ToString(),
                source = authorizer.Acls.Configured.Contains(a) ? "configuration" : "api",
            }),
        }));
        return app;
    }
}
