using Shop.Contracts.Inventory;
using Shop.Contracts.Reservations;
using Shop.ServiceDefaults.Messaging;

namespace Shop.Inventory.Handlers;

/// <summary>ItemsOrdered → reserve every line or none → StockReserved or StockRejected (keyed by order).</summary>
public sealed class ReservationHandler(StockStore stock, Outbox outbox, ILogger<ReservationHandler> logger) : IEventHandler<ItemsOrdered>
{
    public Task HandleAsync(ItemsOrdered ordered, EventContext context, CancellationToken cancellationToken)
    {
        var write = context.Transaction;
        if (stock.Reserve(write, ordered.Items) is { } refusal)
        {
            outbox.Enqueue(write, new StockRejected(ordered.OrderId, refusal));
            logger.LogInformation("Refused order {OrderId}: {Reason}", ordered.OrderId, refusal);
        }
        else
        {
            outbox.Enqueue(write, new StockReserved(ordered.OrderId));
            logger.LogInformation("Reserved stock for order {OrderId}", ordered.OrderId);
        }
        return Task.CompletedTask;
    }
}
