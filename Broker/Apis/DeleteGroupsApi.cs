using Shop.Broker.Groups;
using Shop.Broker.Protocol;

namespace Shop.Broker.Apis;

/// <summary>DeleteGroups v0–1: forgets a group without members and its committed offsets.</summary>
public sealed class DeleteGroupsApi(GroupCoordinator groups) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.DeleteGroups, 0, 1, FlexibleFrom: 2);

    public override async ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader();
        var count = reader.ReadArrayLength();
        var ids = new List<string>(count);
        for (var i = 0; i < count; i++) ids.Add(reader.ReadString());

        var results = new List<(string, ErrorCode)>(ids.Count);
        foreach (var id in ids)
        {
            var known = groups.GroupIds.Contains(id);
            results.Add((id, !known ? ErrorCode.GroupIdNotFound
                : await groups.DeleteAsync(id, cancellationToken) ? ErrorCode.None : ErrorCode.NonEmptyGroup));
        }
        response.WriteInt32(0); // throttle time
        response.WriteArrayLength(results.Count);
        foreach (var (id, error) in results)
        {
            response.WriteString(id);
            response.WriteInt16((short)error);
        }
        return true;
    }
}
