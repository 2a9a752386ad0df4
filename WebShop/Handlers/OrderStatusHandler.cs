using Shop.Contracts.Inventory;
using Shop.Contracts.Notifications;
using Shop.Contracts.Orders;
using Shop.Contracts.Reservations;
using Shop.Contracts.StockLevels;
using Shop.ServiceDefaults.Messaging;

namespace Shop.WebShop.Handlers;

/// <summary>
/// Every event about an order, from every service, becomes a line of its status history; once that
/// is committed, the storefront pages following the order are told.
/// </summary>
public sealed class OrderStatusHandler(OrderStatusFeed feed) :
    IEventHandler<ItemsOrdered>, IEventHandler<StockReserved>, IEventHandler<StockRejected>,
    IEventHandler<OrderCompleted>, IEventHandler<OrderRejected>, IEventHandler<NotificationSent>
{
    public Task HandleAsync(ItemsOrdered e, EventContext context, CancellationToken cancellationToken) => Record(context, e.OrderId, "Pending");

    public Task HandleAsync(StockReserved e, EventContext context, CancellationToken cancellationToken) => Record(context, e.OrderId, "StockReserved");

    public Task HandleAsync(StockRejected e, EventContext context, CancellationToken cancellationToken) => Record(context, e.OrderId, "StockRejected", e.Reason);

    public Task HandleAsync(OrderCompleted e, EventContext context, CancellationToken cancellationToken) => Record(context, e.OrderId, "Completed");

    public Task HandleAsync(OrderRejected e, EventContext context, CancellationToken cancellationToken) => Record(context, e.OrderId, "Rejected", e.Reason);

    public Task HandleAsync(NotificationSent e, EventContext context, CancellationToken cancellationToken) => Record(context, e.OrderId, "Notified", e.Recipient);

    private Task Record(EventContext context, string orderId, string status, string? detail = null)
    {
        OrderViews.Record(context.Transaction, orderId, status, detail, context.Message.Consumed.Message.Timestamp.UtcDateTime);
        context.Transaction.OnCommitted(() => feed.Publish(new HashSet<string> { orderId }));
        return Task.CompletedTask;
    }
}

/// <summary>The compacted stock-levels topic, read into the catalogue's availability.</summary>
public sealed class StockLevelHandler : IEventHandler<StockLevelChanged>
{
    public Task HandleAsync(StockLevelChanged level, EventContext context, CancellationToken cancellationToken)
    {
        OrderViews.SetStock(context.Transaction, level.ProductId, level.Quantity);
        return Task.CompletedTask;
    }
}

/// <summary>The orders topic, read a second time (own group, own offsets) into the sales figures.</summary>
public sealed class SalesAnalyticsHandler : IEventHandler<OrderPlaced>, IEventHandler<OrderCompleted>, IEventHandler<OrderRejected>
{
    public Task HandleAsync(OrderPlaced placed, EventContext context, CancellationToken cancellationToken)
    {
        SalesAnalytics.Placed(context.Transaction, placed);
        return Task.CompletedTask;
    }

    public Task HandleAsync(OrderCompleted completed, EventContext context, CancellationToken cancellationToken)
    {
        SalesAnalytics.Completed(context.Transaction, completed.OrderId);
        return Task.CompletedTask;
    }

    public Task HandleAsync(OrderRejected rejected, EventContext context, CancellationToken cancellationToken)
    {
        SalesAnalytics.Rejected(context.Transaction, rejected.OrderId);
        return Task.CompletedTask;
    }
}
