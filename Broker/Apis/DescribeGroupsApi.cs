using Shop.Broker.Groups;
using Shop.Broker.Protocol;

namespace Shop.Broker.Apis;

/// <summary>DescribeGroups v0–2: state, protocol, and each member with its metadata and assignment.</summary>
public sealed class DescribeGroupsApi(GroupCoordinator groups) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.DescribeGroups, 0, 2, FlexibleFrom: 5);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader();
        var count = reader.ReadArrayLength();
        var ids = new List<string>(count);
        for (var i = 0; i < count; i++) ids.Add(reader.ReadString());

        if (request.Version >= 1) response.WriteInt32(0); // throttle time
        response.WriteArrayLength(ids.Count);
        foreach (var group in ids.Select(groups.Describe))
        {
            response.WriteInt16((short)ErrorCode.None);
            response.WriteString(group.GroupId);
            response.WriteString(group.State.ToString());
            response.WriteString(group.ProtocolType);
            response.WriteString(group.Protocol);
            response.WriteArrayLength(group.Members.Count);
            foreach (var member in group.Members)
            {
                response.WriteString(member.MemberId);
                response.WriteString(member.ClientId);
                response.WriteString(member.ClientHost);
                response.WriteBytes(member.Metadata);
                response.WriteBytes(member.Assignment);
            }
        }
        return ValueTask.FromResult(true);
    }
}
