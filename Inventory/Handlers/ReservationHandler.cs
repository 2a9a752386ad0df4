using Microsoft.Data.Sqlite;
using Shop.ServiceDefaults.Messaging;
using Shop.ServiceDefaults.Messaging.Events;

namespace Shop.Inventory.Handlers;

/// <summary>ItemsOrdered → reserve every line or none → StockReserved or StockRejected (keyed by order).</summary>
public sealed class ReservationHandler(StockStore stock, Outbox outbox, ILogger<ReservationHandler> logger) : IEventHandler
{
    public Task HandleAsync(IncomingEvent incoming, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        if (incoming.EventType != nameof(ItemsOrdered)) return Task.CompletedTask;
        var ordered = incoming.As<ItemsOrdered>();
        var refusal = stock.Reserve(transaction, ordered.Items);
        if (refusal is null)
        {
            outbox.Enqueue(transaction, Topics.Inventory, ordered.OrderId, new StockReserved(ordered.OrderId));
            logger.LogInformation("Reserved stock for order {OrderId}", ordered.OrderId);
        }
        else
        {
            outbox.Enqueue(transaction, Topics.Inventory, ordered.OrderId, new StockRejected(ordered.OrderId, refusal));
            logger.LogInformation("Refused order {OrderId}: {Reason}", ordered.OrderId, refusal);
        }
        return Task.CompletedTask;
    }
}
