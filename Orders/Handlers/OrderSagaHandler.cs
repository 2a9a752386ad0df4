using Microsoft.Data.Sqlite;
using Shop.ServiceDefaults;
using Shop.ServiceDefaults.Messaging;
using Shop.ServiceDefaults.Messaging.Events;

namespace Shop.Orders.Handlers;

/// <summary>
/// The order saga: OrderPlaced → store Pending, ask Inventory (ItemsOrdered); StockReserved →
/// Completed; StockRejected → Rejected with the reason. Every transition goes out through the outbox.
/// </summary>
public sealed class OrderSagaHandler(Outbox outbox, ILogger<OrderSagaHandler> logger) : IEventHandler
{
    public Task HandleAsync(IncomingEvent incoming, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        switch (incoming.EventType)
        {
            case nameof(OrderPlaced):
                var placed = incoming.As<OrderPlaced>();
                if (OrderStore.Insert(transaction, placed))
                {
                    outbox.Enqueue(transaction, Topics.Orders, placed.OrderId, new ItemsOrdered(placed.OrderId, placed.Items));
                    logger.LogInformation("Order {OrderId} is pending", placed.OrderId);
                }
                break;
            case nameof(StockReserved):
                var reserved = incoming.As<StockReserved>();
                if (OrderStore.Decide(transaction, reserved.OrderId, OrderStore.Completed, null) is { } completed)
                {
                    outbox.Enqueue(transaction, Topics.Orders, completed.OrderId,
                        new OrderCompleted(completed.OrderId, completed.UserId, completed.Email, completed.TotalPrice));
                    logger.LogInformation("Order {OrderId} completed", completed.OrderId);
                    ShopMetrics.OrdersCompleted.Add(1);
                    ShopMetrics.SagaDuration.Record((DateTimeOffset.UtcNow - completed.CreatedAt).TotalSeconds, new KeyValuePair<string, object?>("shop.order.status", "Completed"));
                }
                break;
            case nameof(StockRejected):
                var refused = incoming.As<StockRejected>();
                if (OrderStore.Decide(transaction, refused.OrderId, OrderStore.Rejected, refused.Reason) is { } rejected)
                {
                    outbox.Enqueue(transaction, Topics.Orders, rejected.OrderId,
                        new OrderRejected(rejected.OrderId, rejected.UserId, rejected.Email, refused.Reason));
                    logger.LogInformation("Order {OrderId} rejected: {Reason}", rejected.OrderId, refused.Reason);
                    ShopMetrics.OrdersRejected.Add(1);
                    ShopMetrics.SagaDuration.Record((DateTimeOffset.UtcNow - rejected.CreatedAt).TotalSeconds, new KeyValuePair<string, object?>("shop.order.status", "Rejected"));
                }
                break;
        }
        return Task.CompletedTask;
    }
}
