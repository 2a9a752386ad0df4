using Microsoft.Extensions.Time.Testing;
using Shop.Broker.Groups;
using Shop.Broker.Protocol;

namespace Shop.Broker.Tests.Groups;

/// <summary>The classic group state machine in process, on a fake clock: sessions, the initial delay, static members, heartbeats in each state.</summary>
public sealed class ConsumerGroupStateTests
{
    private static readonly TimeSpan InitialDelay = TimeSpan.FromSeconds(3);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private ConsumerGroup NewGroup(TimeSpan? initialDelay = null) => new("g", _time, initialDelay ?? InitialDelay);

    private static Task<JoinResult> Join(ConsumerGroup group, string memberId = "", string? instanceId = null, string client = "c") =>
        group.JoinAsync(memberId, instanceId, client, "/127.0.0.1", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 60_000, "consumer", [("range", [1])]);

    private void Advance(ConsumerGroup group, TimeSpan by)
    {
        _time.Advance(by);
        group.Tick();
    }

    [Fact]
    public async Task Consumers_that_join_within_the_initial_delay_share_one_generation()
    {
        var group = NewGroup();
        var first = Join(group, client: "a");
        Advance(group, TimeSpan.FromSeconds(2));
        var second = Join(group, client: "b"); // extends the delay by another 3 s
        Advance(group, TimeSpan.FromSeconds(2));
        var third = Join(group, client: "c");
        Assert.False(first.IsCompleted);
        Assert.Equal(GroupState.PreparingRebalance, group.State);

        Advance(group, InitialDelay);

        var results = await Task.WhenAll(first, second, third);
        Assert.All(results, r => Assert.Equal(0, r.Error));
        Assert.All(results, r => Assert.Equal(1, r.Generation));
        Assert.Equal(3, results.Single(r => r.MemberId == r.Leader).Members.Count);
        Assert.Equal(GroupState.CompletingRebalance, group.State);
    }

    [Fact]
    public async Task Without_an_initial_delay_a_lone_consumer_completes_its_join_at_once()
    {
        var group = NewGroup(TimeSpan.Zero);
        var joined = await Join(group);
        Assert.Equal(1, joined.Generation);
    }

    [Fact]
    public async Task Heartbeats_are_answered_by_state()
    {
        var group = NewGroup(TimeSpan.Zero);
        var a = await Join(group, client: "a");
        Assert.Equal(ErrorCode.None, group.Heartbeat(a.MemberId, null, a.Generation)); // CompletingRebalance: not a reason to rejoin
        await group.SyncAsync(a.MemberId, null, a.Generation, new() { [a.MemberId] = [9] });
        Assert.Equal(GroupState.Stable, group.State);
        Assert.Equal(ErrorCode.None, group.Heartbeat(a.MemberId, null, a.Generation));
        Assert.Equal(ErrorCode.IllegalGeneration, group.Heartbeat(a.MemberId, null, a.Generation + 1));
        Assert.Equal(ErrorCode.UnknownMemberId, group.Heartbeat("nobody", null, a.Generation));

        var b = Join(group, client: "b"); // a newcomer starts a rebalance
        Assert.Equal(GroupState.PreparingRebalance, group.State);
        Assert.Equal(ErrorCode.RebalanceInProgress, group.Heartbeat(a.MemberId, null, a.Generation));
        _ = Join(group, a.MemberId, client: "a");
        Assert.Equal(2, (await b).Generation);
    }

    [Fact]
    public async Task A_member_whose_session_expires_is_removed_and_the_group_rebalances()
    {
        var group = NewGroup(TimeSpan.Zero);
        var a = await Join(group, client: "a");
        var b = Join(group, client: "b");
        var a2 = await Join(group, a.MemberId, client: "a");
        var b2 = await b;
        await Task.WhenAll(
            group.SyncAsync(a2.MemberId, null, a2.Generation, new() { [a2.MemberId] = [1], [b2.MemberId] = [2] }),
            group.SyncAsync(b2.MemberId, null, b2.Generation, []));

        for (var i = 0; i < 3; i++)
        {
            Advance(group, TimeSpan.FromSeconds(3));
            Assert.Equal(ErrorCode.None, group.Heartbeat(a2.MemberId, null, a2.Generation)); // only a keeps heartbeating
        }
        Assert.True(group.HasMember(b2.MemberId)); // 9 s of a 10 s session

        Advance(group, TimeSpan.FromSeconds(2));

        Assert.False(group.HasMember(b2.MemberId));
        Assert.Equal(GroupState.PreparingRebalance, group.State);
        Assert.Equal(ErrorCode.RebalanceInProgress, group.Heartbeat(a2.MemberId, null, a2.Generation));
    }

    [Fact]
    public async Task A_static_member_back_within_its_session_gets_its_assignment_without_a_rebalance()
    {
        var group = NewGroup(TimeSpan.Zero);
        var a = await Join(group, instanceId: "node-a", client: "a");
        var b = Join(group, instanceId: "node-b", client: "b");
        var a2 = await Join(group, a.MemberId, "node-a", "a");
        var b2 = await b;
        await Task.WhenAll(
            group.SyncAsync(a2.MemberId, "node-a", a2.Generation, new() { [a2.MemberId] = [1], [b2.MemberId] = [2] }),
            group.SyncAsync(b2.MemberId, "node-b", b2.Generation, []));
        var generation = group.Generation;

        // b restarts (static members send no LeaveGroup) and joins again with no member id.
        Advance(group, TimeSpan.FromSeconds(5));
        var back = await Join(group, instanceId: "node-b", client: "b");

        Assert.Equal(0, back.Error);
        Assert.Equal(generation, back.Generation);
        Assert.Equal(GroupState.Stable, group.State);
        Assert.NotEqual(b2.MemberId, back.MemberId);
        var synced = await group.SyncAsync(back.MemberId, "node-b", back.Generation, []);
        Assert.Equal([2], synced.Assignment);
        Assert.Equal(ErrorCode.None, group.Heartbeat(a2.MemberId, "node-a", generation));
    }

    [Fact]
    public async Task An_instance_replaced_by_a_newer_one_with_its_instance_id_is_fenced_everywhere()
    {
        var group = NewGroup(TimeSpan.Zero);
        var first = await Join(group, instanceId: "node-a", client: "first");
        await group.SyncAsync(first.MemberId, "node-a", first.Generation, new() { [first.MemberId] = [1] });

        var second = await Join(group, instanceId: "node-a", client: "second"); // same instance id, no member id: takes over

        Assert.Equal(0, second.Error);
        Assert.Equal(ErrorCode.FencedInstanceId, group.Heartbeat(first.MemberId, "node-a", first.Generation));
        Assert.Equal(ErrorCode.FencedInstanceId, group.CheckCommit(first.MemberId, "node-a", first.Generation));
        Assert.Equal((short)ErrorCode.FencedInstanceId, (await group.SyncAsync(first.MemberId, "node-a", first.Generation, [])).Error);
        Assert.Equal((short)ErrorCode.FencedInstanceId, (await Join(group, first.MemberId, "node-a", "first")).Error);
        Assert.Equal(ErrorCode.FencedInstanceId, group.Leave(first.MemberId, "node-a"));
        // The newer one is untouched by all that.
        Assert.Equal(ErrorCode.None, group.Heartbeat(second.MemberId, "node-a", second.Generation));
        Assert.Equal(GroupState.Stable, group.State);
        Assert.Equal([1], (await group.SyncAsync(second.MemberId, "node-a", second.Generation, [])).Assignment);
    }
}
