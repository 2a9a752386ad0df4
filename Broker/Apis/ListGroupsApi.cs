using Shop.Broker.Groups;
using Shop.Broker.Protocol;

namespace Shop.Broker.Apis;

/// <summary>ListGroups v0–2: every group with members or committed offsets.</summary>
public sealed class ListGroupsApi(GroupCoordinator groups) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.ListGroups, 0, 2, FlexibleFrom: 3);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var listed = groups.GroupIds.Select(groups.Describe).ToList();
        if (request.Version >= 1) response.WriteInt32(0); // throttle time
        response.WriteInt16((short)ErrorCode.None);
        response.WriteArrayLength(listed.Count);
        foreach (var group in listed)
        {
            response.WriteString(group.GroupId);
            response.WriteString(group.ProtocolType.Length > 0 ? group.ProtocolType : "consumer");
        }
        return ValueTask.FromResult(true);
    }
}
