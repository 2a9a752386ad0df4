namespace Shop.Broker.Groups;

/// <summary>One consumer in a group, as the coordinator sees it. Guarded by its group's lock.</summary>
internal sealed class GroupMember(string memberId, string? groupInstanceId, string clientId, string clientHost)
{
    public string MemberId { get; } = memberId;

    public string? GroupInstanceId { get; } = groupInstanceId;

    public string ClientId { get; } = clientId;

    public string ClientHost { get; } = clientHost;

    public int SessionTimeoutMs { get; set; }

    public int RebalanceTimeoutMs { get; set; }

    /// <summary>Supported protocols (assignors) in the member's order of preference, with its metadata for each.</summary>
    public List<(string Name, byte[] Metadata)> Protocols { get; set; } = [];

    public byte[] Assignment { get; set; } = [];

    public DateTime LastHeartbeat { get; set; }

    /// <summary>Set while the member waits for the join phase to end.</summary>
    public TaskCompletionSource<JoinResult>? JoinWaiter { get; set; }

    /// <summary>Set while the member waits for the leader's assignment.</summary>
    public TaskCompletionSource<SyncResult>? SyncWaiter { get; set; }

    public byte[] MetadataFor(string protocol) => Protocols.First(p => p.Name == protocol).Metadata;

    /// <summary>The same member under a new id: a static member that came back (the old id is fenced).</summary>
    public GroupMember WithMemberId(string newMemberId) => new(newMemberId, GroupInstanceId, ClientId, ClientHost)
    {
        SessionTimeoutMs = SessionTimeoutMs,
        RebalanceTimeoutMs = RebalanceTimeoutMs,
        Protocols = Protocols,
        Assignment = Assignment,
        LastHeartbeat = LastHeartbeat,
    };
}

public sealed record JoinedMember(string MemberId, string? GroupInstanceId, byte[] Metadata);

public sealed record JoinResult(short Error, int Generation, string? Protocol, string Leader, string MemberId, IReadOnlyList<JoinedMember> Members);

public sealed record SyncResult(short Error, byte[] Assignment);
