using Shop.Broker.Groups;
using Shop.Broker.Protocol;

namespace Shop.Broker.Apis;

/// <summary>SyncGroup v0–3: the leader hands in every member's assignment; each member waits for its own.</summary>
public sealed class SyncGroupApi(GroupCoordinator groups) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.SyncGroup, 0, 3, FlexibleFrom: 4);

    public override async ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader();
        var groupId = reader.ReadString();
        var generation = reader.ReadInt32();
        var memberId = reader.ReadString();
        if (request.Version >= 3) _ = reader.ReadNullableString(); // group instance id
        var count = reader.ReadArrayLength();
        var assignments = new Dictionary<string, byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            assignments[reader.ReadString()] = reader.ReadNullableBytes()?.ToArray() ?? [];
        }

        var result = groups.Find(groupId) is { } group
            ? await group.SyncAsync(memberId, generation, assignments).WaitAsync(cancellationToken)
            : new SyncResult((short)ErrorCode.UnknownMemberId, []);
        if (request.Version >= 1) response.WriteInt32(0); // throttle time
        response.WriteInt16(result.Error);
        response.WriteBytes(result.Assignment);
        return true;
    }
}
