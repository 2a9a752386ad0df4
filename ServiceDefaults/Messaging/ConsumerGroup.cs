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

    public void Add<TEvent, THandler>() where TEvent : IShopEvent where THandler : IEventHandler<TEvent>
    {
        var key = (TEvent.Topic.Name, typeof(TEvent).Name);
        if (!_routes.TryGetValue(key, out var routes)) _routes[key] = routes = [];
        routes.Add((services, context, cancellationToken) =>
            services.GetRequiredService<THandler>().HandleAsync(context.Message.As<TEvent>(), context, cancellationToken));
    }

    /// <summary>The handlers of <paramref name="message"/>'s type; none when this group does not handle it.</summary>
    public IReadOnlyList<Route> RoutesOf(IncomingEvent message) =>
        _routes.TryGetValue((message.Topic, message.EventType), out var routes) ? routes : [];
}
