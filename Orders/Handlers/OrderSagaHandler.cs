using Shop.Contracts.Inventory;
using Shop.Contracts.Orders;
using Shop.Contracts.Reservations;
using Shop.ServiceDefaults;
using Shop.ServiceDefaults.Messaging;

namespace Shop.Orders.Handlers;

/// <summary>
/// The order saga: OrderPlaced → store Pending, ask Inventory (ItemsOrdered); StockReserved →
/// Completed; StockRejected → Rejected with the reason. Every transition goes out through the outbox.
/// </summary>
public sealed class OrderSagaHandler(Outbox outbox, ILogger<OrderSagaHandler> logger)
    : IEventHandler<OrderPlaced>, IEventHandler<StockReserved>, IEventHandler<StockRejected>
{
    public Task HandleAsync(OrderPlaced placed, EventContext context, CancellationToken cancellationToken)
    {
        if (OrderStore.Insert(context.Transaction, placed))
        {
            outbox.Enqueue(context.Transaction, new ItemsOrdered(placed.OrderId, placed.Items));
            logger.LogInformation("Order {OrderId} is pending", placed.OrderId);
        }
        return Task.CompletedTask;
    }

    public Task HandleAsync(StockReserved reserved, EventContext context, CancellationToken cancellationToken)
    {
        if (OrderStore.Decide(context.Transaction, reserved.OrderId, OrderStore.Completed, null) is { } completed)
        {
            outbox.Enqueue(context.Transaction, new OrderCompleted(completed.OrderId, completed.UserId, completed.Email, completed.TotalPrice));
            logger.LogInformation("Order {OrderId} completed", completed.OrderId);
            ShopMetrics.OrdersCompleted.Add(1);
            RecordSagaDuration(completed);
        }
        return Task.CompletedTask;
    }

    public Task HandleAsync(StockRejected refused, EventContext context, CancellationToken cancellationToken)
    {
        if (OrderStore.Decide(context.Transaction, refused.OrderId, OrderStore.Rejected, refused.Reason) is { } rejected)
        {
            outbox.Enqueue(context.Transaction, new OrderRejected(rejected.OrderId, rejected.UserId, rejected.Email, refused.Reason));
            logger.LogInformation("Order {OrderId} rejected: {Reason}", rejected.OrderId, refused.Reason);
            ShopMetrics.OrdersRejected.Add(1);
            RecordSagaDuration(rejected);
        }
        return Task.CompletedTask;
    }

    private static void RecordSagaDuration(OrderRecord order) =>
        ShopMetrics.SagaDuration.Record((DateTimeOffset.UtcNow - order.CreatedAt).TotalSeconds, new KeyValuePair<string, object?>("shop.order.status", order.Status));
}
