using Microsoft.Extensions.DependencyInjection;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// The typed handlers of one consumer group, by topic and event type (the <c>event-type</c> header).
/// The group reads every topic one of its events lives on; messages of other types are passed over.
/// </summary>
public sealed class ConsumerGroup(string groupId)
{
    public delegate Task Route(IServiceProvider services, EventContext context, CancellationToken cancellationToken);

    private readonly Dictionary<(string Topic, string EventType), List<Route>> _routes = [];

    public string GroupId => groupId;

    public IReadOnlyList<string> Topics => _routes.Keys.Select(k => k.Topic).Distinct().ToList();

    /// <summary>
    /// Whether the group records message ids to drop redeliveries. A group of last-value handlers
    /// (a level replaces the one before) may do without: a redelivery replays the log in order, so
    /// it ends where the log ends, and a compacted topic would keep its ids for ever.
    /// </summary>
    public bool KeepsInbox { get; private set; } = true;

    /// <summary>
    /// How long the group's fetches may wait for more records (zero: answered on the first record).
    /// Groups on an order's path answer at once; a read model's group waits, so that it takes many
    /// events in one fetch and one commit, and the broker answers a few fetches a second instead of
    /// one per event.
    /// </summary>
    public TimeSpan BatchWait { get; private set; }

    public void WaitForBatches(TimeSpan upTo)
    {
        if (upTo < TimeSpan.Zero || upTo > TimeSpan.FromSeconds(5))
        {
            throw new ArgumentOutOfRangeException(nameof(upTo), upTo, $"Consumer group {groupId}: a batch wait is between 0 and 5 s.");
        }
        BatchWait = upTo;
    }

    public void Add<TEvent, THandler>(bool inbox = true) where TEvent : IShopEvent where THandler : IEventHandler<TEvent>
    {
        if (_routes.Count == 0) KeepsInbox = inbox;
        else if (KeepsInbox != inbox)
        {
            throw new InvalidOperationException($"Consumer group {groupId}: either every handler of a group uses the inbox or none does ({typeof(THandler).Name} differs).");
        }
        var key = (TEvent.Topic.Name, typeof(TEvent).Name);
        if (!_routes.TryGetValue(key, out var routes)) _routes[key] = routes = [];
        routes.Add((services, context, cancellationToken) =>
            services.GetRequiredService<THandler>().HandleAsync(context.Message.As<TEvent>(), context, cancellationToken));
    }

    /// <summary>The handlers of <paramref name="message"/>'s type; none when this group does not handle it.</summary>
    public IReadOnlyList<Route> RoutesOf(IncomingEvent message) =>
        _routes.TryGetValue((message.Topic, message.EventType), out var routes) ? routes : [];
}
