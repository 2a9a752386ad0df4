using Microsoft.Data.Sqlite;
using Shop.ServiceDefaults.Messaging;
using Shop.ServiceDefaults.Messaging.Events;

namespace Shop.WebShop.Handlers;

/// <summary>
/// Every event about an order, from every service, becomes a line of its status history; once that
/// is committed, the storefront pages following those orders are told.
/// </summary>
public sealed class OrderStatusHandler(OrderStatusFeed feed) : IEventHandler
{
    // Orders touched by the transaction in progress. A transaction rolled back leaves its ids here
    // to be announced with the next commit: followers re-read the view, so that costs nothing.
    private readonly HashSet<string> _touched = [];
    private readonly Lock _lock = new();

    public Task HandleAsync(IncomingEvent incoming, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        var orderId = incoming.Key;
        switch (incoming.EventType)
        {
            case nameof(ItemsOrdered): OrderViews.Record(transaction, orderId, "Pending"); break;
            case nameof(StockReserved): OrderViews.Record(transaction, orderId, "StockReserved"); break;
            case nameof(StockRejected): OrderViews.Record(transaction, orderId, "StockRejected", incoming.As<StockRejected>().Reason); break;
            case nameof(OrderCompleted): OrderViews.Record(transaction, orderId, "Completed"); break;
            case nameof(OrderRejected): OrderViews.Record(transaction, orderId, "Rejected", incoming.As<OrderRejected>().Reason); break;
            case nameof(NotificationSent): OrderViews.Record(transaction, orderId, "Notified", incoming.As<NotificationSent>().Recipient); break;
            default: return Task.CompletedTask;
        }
        lock (_lock) _touched.Add(orderId);
        return Task.CompletedTask;
    }

    public void Committed()
    {
        HashSet<string> committed;
        lock (_lock)
        {
            committed = [.. _touched];
            _touched.Clear();
        }
        feed.Publish(committed);
    }
}

/// <summary>The compacted stock-levels topic, read into the catalogue's availability.</summary>
public sealed class StockLevelHandler : IEventHandler
{
    public Task HandleAsync(IncomingEvent incoming, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        if (incoming.EventType == nameof(StockLevelChanged))
        {
            var level = incoming.As<StockLevelChanged>();
            OrderViews.SetStock(transaction, level.ProductId, level.Quantity);
        }
        return Task.CompletedTask;
    }
}

/// <summary>The orders topic, read a second time (own group, own offsets) into the sales figures.</summary>
public sealed class SalesAnalyticsHandler : IEventHandler
{
    public Task HandleAsync(IncomingEvent incoming, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        switch (incoming.EventType)
        {
            case nameof(OrderPlaced): SalesAnalytics.Placed(transaction, incoming.As<OrderPlaced>()); break;
            case nameof(OrderCompleted): SalesAnalytics.Completed(transaction, incoming.Key); break;
            case nameof(OrderRejected): SalesAnalytics.Rejected(transaction, incoming.Key); break;
        }
        return Task.CompletedTask;
    }
}
