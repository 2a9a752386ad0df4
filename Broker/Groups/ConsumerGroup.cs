using Shop.Broker.Protocol;

namespace Shop.Broker.Groups;

public enum GroupState { Empty, PreparingRebalance, CompletingRebalance, Stable, Dead }

/// <summary>
/// The classic group protocol's state machine for one group: members join (PreparingRebalance),
/// the coordinator picks a protocol every member supports and makes a leader (CompletingRebalance),
/// the leader's assignment is handed out (Stable). The broker never looks inside assignments.
/// All methods take the group's lock; waits are TaskCompletionSources completed under it.
/// As in Kafka: the first join of an empty group waits <c>group.initial.rebalance.delay.ms</c> for
/// the others (so consumers started together cause one rebalance, not one each); a static member
/// (group.instance.id) that comes back within its session timeout gets its assignment back
/// without a rebalance; heartbeats are answered NONE while the assignment is being handed out.
/// </summary>
public sealed class ConsumerGroup(string groupId, TimeProvider time, TimeSpan initialRebalanceDelay = default)
{
    private readonly Dictionary<string, GroupMember> _members = [];
    private DateTime _joinDeadline;
    private DateTime _initialDelayUntil;
    private DateTime _initialDelayLimit;

    public string GroupId { get; } = groupId;

    public GroupState State { get; private set; } = GroupState.Empty;

    public int Generation { get; private set; }

    public string? ProtocolType { get; private set; }

    public string? Protocol { get; private set; }

    public string? Leader { get; private set; }

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    public bool IsEmpty { get { lock (this) return _members.Count == 0; } }

    public bool HasMember(string memberId) { lock (this) return _members.ContainsKey(memberId); }

    public Task<JoinResult> JoinAsync(string memberId, string? groupInstanceId, string clientId, string clientHost,
        int sessionTimeoutMs, int rebalanceTimeoutMs, string protocolType, List<(string Name, byte[] Metadata)> protocols)
    {
        lock (this)
        {
            if (State == GroupState.Dead) return Failed(ErrorCode.CoordinatorNotAvailable, memberId);
            if (protocols.Count == 0 || (_members.Count > 0 && protocolType != ProtocolType)
                || (_members.Count > 0 && !protocols.Any(p => _members.Values.All(m => m.MemberId == memberId || m.Protocols.Any(q => q.Name == p.Name)))))
            {
                return Failed(ErrorCode.InconsistentGroupProtocol, memberId);
            }

            GroupMember? member;
            var isNew = false;
            if (memberId.Length == 0)
            {
                var known = groupInstanceId is null ? null : _members.Values.FirstOrDefault(m => m.GroupInstanceId == groupInstanceId);
                if (known is not null)
                {
                    // A static member that comes back gets a new member id; the old one is fenced.
                    member = ReplaceStaticMember(known, $"{clientId}-{Guid.NewGuid()}");
                    member.SessionTimeoutMs = sessionTimeoutMs;
                    member.RebalanceTimeoutMs = rebalanceTimeoutMs;
                    member.LastHeartbeat = Now;
                    if (State == GroupState.Stable && Protocol is not null && protocols.Any(p => p.Name == Protocol) && protocolType == ProtocolType)
                    {
                        // Nothing changed for the group: no rebalance, the assignment is waiting for it in SyncGroup.
                        member.Protocols = protocols;
                        return Task.FromResult(new JoinResult(0, Generation, Protocol, Leader!, member.MemberId, member.MemberId == Leader ? JoinedMembers() : []));
                    }
                }
                else
                {
                    member = new GroupMember($"{clientId}-{Guid.NewGuid()}", groupInstanceId, clientId, clientHost);
                    _members[member.MemberId] = member;
                    isNew = true;
                }
            }
            else
            {
                var error = Validate(memberId, groupInstanceId, out member);
                if (error != ErrorCode.None) return Failed(error, memberId);
            }

            member.SessionTimeoutMs = sessionTimeoutMs;
            member.RebalanceTimeoutMs = rebalanceTimeoutMs;
            member.Protocols = protocols;
            member.LastHeartbeat = Now;
            ProtocolType = protocolType;
            member.JoinWaiter?.TrySetResult(ErrorResult(ErrorCode.UnknownMemberId, member.MemberId));
            member.JoinWaiter = new TaskCompletionSource<JoinResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            var waiter = member.JoinWaiter.Task;

            if (State == GroupState.Empty) StartInitialDelay(member.RebalanceTimeoutMs);
            else if (isNew && Now < _initialDelayUntil) ExtendInitialDelay();
            if (State != GroupState.PreparingRebalance) PrepareRebalance();
            MaybeCompleteJoin();
            return waiter;
        }
    }

    public Task<SyncResult> SyncAsync(string memberId, string? groupInstanceId, int generation, Dictionary<string, byte[]> assignments)
    {
        lock (this)
        {
            var error = Validate(memberId, groupInstanceId, out var member);
            if (error != ErrorCode.None) return Task.FromResult(new SyncResult((short)error, []));
            if (generation != Generation) return Task.FromResult(new SyncResult((short)ErrorCode.IllegalGeneration, []));
            switch (State)
            {
                case GroupState.PreparingRebalance:
                    return Task.FromResult(new SyncResult((short)ErrorCode.RebalanceInProgress, []));
                case GroupState.Stable:
                    return Task.FromResult(new SyncResult(0, member.Assignment));
                case GroupState.CompletingRebalance:
                    member.SyncWaiter?.TrySetResult(new SyncResult((short)ErrorCode.RebalanceInProgress, []));
                    member.SyncWaiter = new TaskCompletionSource<SyncResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                    var waiter = member.SyncWaiter.Task;
                    if (memberId == Leader)
                    {
                        foreach (var m in _members.Values)
                        {
                            m.Assignment = assignments.TryGetValue(m.MemberId, out var a) ? a : [];
                            m.SyncWaiter?.TrySetResult(new SyncResult(0, m.Assignment));
                            m.SyncWaiter = null;
                        }
                        State = GroupState.Stable;
                    }
                    return waiter;
                default:
                    return Task.FromResult(new SyncResult((short)ErrorCode.UnknownMemberId, []));
            }
        }
    }

    public ErrorCode Heartbeat(string memberId, string? groupInstanceId, int generation)
    {
        lock (this)
        {
            var error = Validate(memberId, groupInstanceId, out var member);
            if (error != ErrorCode.None) return error;
            member.LastHeartbeat = Now;
            if (generation != Generation) return ErrorCode.IllegalGeneration;
            // While the leader's assignment is handed out the member is where it should be: only a
            // join phase asks it to rejoin. (Answering REBALANCE_IN_PROGRESS here causes extra rebalances.)
            return State == GroupState.PreparingRebalance ? ErrorCode.RebalanceInProgress : ErrorCode.None;
        }
    }

    public ErrorCode Leave(string memberId, string? groupInstanceId = null)
    {
        lock (this)
        {
            var error = Validate(memberId, groupInstanceId, out var member);
            if (error != ErrorCode.None) return error;
            Remove(member);
            return ErrorCode.None;
        }
    }

    /// <summary>Checks an offset commit from a member; simple commits (no member, generation -1) only for groups without members.</summary>
    public ErrorCode CheckCommit(string memberId, string? groupInstanceId, int generation)
    {
        lock (this)
        {
            if (generation < 0 && memberId.Length == 0)
                return _members.Count == 0 ? ErrorCode.None : ErrorCode.IllegalGeneration;
            var error = Validate(memberId, groupInstanceId, out var member);
            if (error != ErrorCode.None) return error;
            if (generation != Generation) return ErrorCode.IllegalGeneration;
            if (State == GroupState.CompletingRebalance) return ErrorCode.RebalanceInProgress;
            member.LastHeartbeat = Now;
            return ErrorCode.None;
        }
    }

    /// <summary>Evicts members whose session expired and ends a join phase whose time is up. Called by the coordinator's timer.</summary>
    public void Tick()
    {
        lock (this)
        {
            var now = Now;
            foreach (var member in _members.Values.ToList())
            {
                var waitingToJoin = State == GroupState.PreparingRebalance && member.JoinWaiter is not null;
                if (!waitingToJoin && now - member.LastHeartbeat > TimeSpan.FromMilliseconds(member.SessionTimeoutMs)) Remove(member);
            }
            if (State == GroupState.PreparingRebalance && now >= _joinDeadline)
            {
                foreach (var member in _members.Values.Where(m => m.JoinWaiter is null).ToList()) _members.Remove(member.MemberId);
                MaybeCompleteJoin();
            }
            else if (State == GroupState.PreparingRebalance && now >= _initialDelayUntil)
            {
                MaybeCompleteJoin();
            }
        }
    }

    public GroupDescription Describe()
    {
        lock (this)
        {
            return new GroupDescription(GroupId, State, ProtocolType ?? "", State == GroupState.Stable || State == GroupState.CompletingRebalance ? Protocol ?? "" : "",
                _members.Values.Select(m => new MemberDescription(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost,
                    Protocol is not null && m.Protocols.Any(p => p.Name == Protocol) ? m.MetadataFor(Protocol) : [], m.Assignment)).ToList());
        }
    }

    /// <summary>
    /// Whether a member's subscription names the topic: the "consumer" protocol's metadata starts
    /// with a version (int16) and the subscribed topics (int32 count, int16-length strings).
    /// </summary>
    public bool IsSubscribedTo(string topic)
    {
        lock (this)
        {
            return _members.Values.Any(m => m.Protocols.Any(p => SubscribedTopics(p.Metadata).Contains(topic)));
        }
    }

    private static List<string> SubscribedTopics(byte[] metadata)
    {
        var topics = new List<string>();
        try
        {
            var position = 2;
            var count = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(metadata.AsSpan(position));
            position += 4;
            for (var i = 0; i < count; i++)
            {
                var length = System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(metadata.AsSpan(position));
                position += 2;
                topics.Add(System.Text.Encoding.UTF8.GetString(metadata, position, length));
                position += length;
            }
        }
        catch (ArgumentOutOfRangeException)
        {
            // Not the consumer protocol's layout: nothing can be said about its topics.
        }
        return topics;
    }

    public void MarkDead()
    {
        lock (this) State = GroupState.Dead;
    }

    private void Remove(GroupMember member)
    {
        _members.Remove(member.MemberId);
        member.JoinWaiter?.TrySetResult(ErrorResult(ErrorCode.UnknownMemberId, member.MemberId));
        member.SyncWaiter?.TrySetResult(new SyncResult((short)ErrorCode.UnknownMemberId, []));
        if (_members.Count == 0)
        {
            State = GroupState.Empty;
            Leader = null;
            Protocol = null;
            Generation++;
            return;
        }
        if (State == GroupState.PreparingRebalance) MaybeCompleteJoin(); else PrepareRebalance();
    }

    private void PrepareRebalance()
    {
        // Members waiting for an assignment of the old generation must rejoin.
        foreach (var m in _members.Values)
        {
            m.SyncWaiter?.TrySetResult(new SyncResult((short)ErrorCode.RebalanceInProgress, []));
            m.SyncWaiter = null;
        }
        State = GroupState.PreparingRebalance;
        var rebalanceTimeout = _members.Values.Max(m => m.RebalanceTimeoutMs);
        _joinDeadline = Now.AddMilliseconds(rebalanceTimeout);
    }

    /// <summary>The first join of an empty group waits for the others: one delay, extended by each newcomer, within the rebalance timeout.</summary>
    private void StartInitialDelay(int rebalanceTimeoutMs)
    {
        _initialDelayLimit = Now.AddMilliseconds(rebalanceTimeoutMs);
        _initialDelayUntil = Min(Now + initialRebalanceDelay, _initialDelayLimit);
    }

    private void ExtendInitialDelay() => _initialDelayUntil = Min(Now + initialRebalanceDelay, _initialDelayLimit);

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    /// <summary>
    /// Finds the member a request speaks for. A static member is known by its instance id: a request
    /// carrying that id with an older member id comes from an instance that a newer one replaced,
    /// and is fenced (FENCED_INSTANCE_ID, fatal for the client) instead of told to rejoin, which
    /// would make the two take the place from each other forever.
    /// </summary>
    private ErrorCode Validate(string memberId, string? groupInstanceId, out GroupMember member)
    {
        if (groupInstanceId is not null)
        {
            var current = _members.Values.FirstOrDefault(m => m.GroupInstanceId == groupInstanceId);
            if (current is not null && current.MemberId != memberId)
            {
                member = null!;
                return ErrorCode.FencedInstanceId;
            }
        }
        return _members.TryGetValue(memberId, out member!) ? ErrorCode.None : ErrorCode.UnknownMemberId;
    }

    private GroupMember ReplaceStaticMember(GroupMember old, string newMemberId)
    {
        var replacement = old.WithMemberId(newMemberId);
        _members.Remove(old.MemberId);
        _members[newMemberId] = replacement;
        old.JoinWaiter?.TrySetResult(ErrorResult(ErrorCode.FencedInstanceId, old.MemberId));
        old.SyncWaiter?.TrySetResult(new SyncResult((short)ErrorCode.FencedInstanceId, []));
        if (Leader == old.MemberId) Leader = newMemberId;
        return replacement;
    }

    private List<JoinedMember> JoinedMembers() =>
        _members.Values.Select(m => new JoinedMember(m.MemberId, m.GroupInstanceId, m.MetadataFor(Protocol!))).ToList();

    /// <summary>The join phase ends when every known member has (re)joined and any initial delay is over, or by <see cref="Tick"/> when time is up.</summary>
    private void MaybeCompleteJoin()
    {
        if (State != GroupState.PreparingRebalance) return;
        if (_members.Count == 0) { State = GroupState.Empty; return; }
        if (_members.Values.Any(m => m.JoinWaiter is null)) return;
        if (Now < _initialDelayUntil) return;

        Generation++;
        Protocol = ChooseProtocol();
        if (Leader is null || !_members.ContainsKey(Leader)) Leader = _members.Keys.First();
        State = GroupState.CompletingRebalance;
        var all = JoinedMembers();
        foreach (var m in _members.Values)
        {
            m.JoinWaiter!.TrySetResult(new JoinResult(0, Generation, Protocol, Leader, m.MemberId, m.MemberId == Leader ? all : []));
            m.JoinWaiter = null;
            m.LastHeartbeat = Now;
        }
    }

    /// <summary>Among the protocols every member supports, each member votes for its first; the most votes win.</summary>
    private string ChooseProtocol()
    {
        var candidates = _members.Values.First().Protocols.Select(p => p.Name)
            .Where(name => _members.Values.All(m => m.Protocols.Any(p => p.Name == name)))
            .ToList();
        return _members.Values
            .Select(m => m.Protocols.First(p => candidates.Contains(p.Name)).Name)
            .GroupBy(name => name)
            .OrderByDescending(g => g.Count()).ThenBy(g => candidates.IndexOf(g.Key))
            .First().Key;
    }

    private static Task<JoinResult> Failed(ErrorCode error, string memberId) => Task.FromResult(ErrorResult(error, memberId));

    private static JoinResult ErrorResult(ErrorCode error, string memberId) => new((short)error, -1, null, "", memberId, []);
}

public sealed record MemberDescription(string MemberId, string? GroupInstanceId, string ClientId, string ClientHost, byte[] Metadata, byte[] Assignment);

public sealed record GroupDescription(string GroupId, GroupState State, string ProtocolType, string Protocol, IReadOnlyList<MemberDescription> Members);
