using Shop.Broker.Groups;
using Shop.Broker.Protocol;

namespace Shop.Broker.Apis;

/// <summary>
/// JoinGroup v1–5 (v5: static membership through the group instance id). The answer waits until
/// the join phase ends; the leader receives every member's metadata for the chosen protocol.
/// </summary>
public sealed class JoinGroupApi(GroupCoordinator groups) : KafkaApi
{
    public const int MinSessionTimeoutMs = 1000;
    public const int MaxSessionTimeoutMs = 1_800_000;

    public override ApiVersionRange Versions { get; } = new(ApiKeys.JoinGroup, 1, 5, FlexibleFrom: 6);

    public override async ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var version = request.Version;
        var reader = request.BodyReader();
        var groupId = reader.ReadString();
        var sessionTimeoutMs = reader.ReadInt32();
        var rebalanceTimeoutMs = reader.ReadInt32();
        var memberId = reader.ReadString();
        var groupInstanceId = version >= 5 ? reader.ReadNullableString() : null;
        var protocolType = reader.ReadString();
        var count = reader.ReadArrayLength();
        var protocols = new List<(string, byte[])>(count);
        for (var i = 0; i < count; i++)
        {
            protocols.Add((reader.ReadString(), reader.ReadNullableBytes()?.ToArray() ?? []));
        }

        JoinResult result;
        if (groupId.Length == 0)
            result = new JoinResult((short)ErrorCode.InvalidGroupId, -1, null, "", memberId, []);
        else if (sessionTimeoutMs is < MinSessionTimeoutMs or > MaxSessionTimeoutMs)
            result = new JoinResult((short)ErrorCode.InvalidSessionTimeout, -1, null, "", memberId, []);
        else
            result = await groups.GetOrCreate(groupId).JoinAsync(memberId, groupInstanceId, request.ClientId, request.ClientHost,
                sessionTimeoutMs, rebalanceTimeoutMs, protocolType, protocols).WaitAsync(cancellationToken);

        if (version >= 2) response.WriteInt32(0); // throttle time
        response.WriteInt16(result.Error);
        response.WriteInt32(result.Generation);
        response.WriteString(result.Protocol ?? "");
        response.WriteString(result.Leader);
        response.WriteString(result.MemberId);
        response.WriteArrayLength(result.Members.Count);
        foreach (var member in result.Members)
        {
            response.WriteString(member.MemberId);
            if (version >= 5) response.WriteNullableString(member.GroupInstanceId);
            response.WriteBytes(member.Metadata);
        }
        return true;
    }
}
