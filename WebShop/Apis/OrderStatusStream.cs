using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Shop.WebShop.Apis;

/// <summary>
/// <c>GET /api/orders/{orderId}/events</c>: the order's view (the shape of <c>GET /api/orders/{orderId}</c>)
/// as server-sent events, pushed as each service reports instead of polled. The current view comes
/// first, then one event per change. The stream ends once the order is final (Completed or Rejected)
/// and its mail is sent (Notified), which is also when the page closes its EventSource; an order
/// that never gets there keeps the stream open until the page leaves or the shop stops.
/// </summary>
public static class OrderStatusStream
{
    public static Results<ServerSentEventsResult<OrderView>, NotFound> Follow(
        string orderId, OrderViews views, OrderStatusFeed feed, IHostApplicationLifetime lifetime)
    {
        // Taken before the first read: a change committed after that read is then never missed.
        var next = feed.Next;
        return views.Find(orderId) is { } view
            ? TypedResults.ServerSentEvents(ChangesAsync(orderId, view, next, views, lifetime.ApplicationStopping))
            : TypedResults.NotFound();
    }

    public static bool IsFinal(OrderView view) =>
        view.Status is "Completed" or "Rejected" && view.History.Any(h => h.Status == "Notified");

    private static async IAsyncEnumerable<OrderView> ChangesAsync(
        string orderId, OrderView view, Task<OrderStatusFeed.Change> next, OrderViews views,
        CancellationToken shopStopping, [EnumeratorCancellation] CancellationToken pageLeft = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(shopStopping, pageLeft);
        yield return view;
        while (!IsFinal(view))
        {
            // Ends quietly rather than throwing when the page leaves or the shop stops.
            await ((Task)next).WaitAsync(stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!next.IsCompletedSuccessfully) yield break;
            var change = await next;
            next = change.Next;
            if (!change.OrderIds.Contains(orderId)) continue;
            // History only grows, and every status change adds a line to it.
            if (views.Find(orderId) is not { } latest || latest.History.Count == view.History.Count) continue;
            view = latest;
            yield return view;
        }
    }
}
