using Shop.Contracts.Orders;
using Shop.ServiceDefaults.Messaging;

namespace Shop.Contracts.Reservations;

// The reservations topic, keyed by order_id: Orders' request to Inventory, on a topic of its own so
// that Inventory is woken only for what it handles (on the orders topic it passed over two events
// of every three), and Orders is not woken for its own request.

public static class ReservationsTopic
{
    public static readonly TopicSpec Spec = new("reservations", Partitions: 3);
}

/// <summary>Orders → reservations: the order is stored as Pending; Inventory should reserve its lines.</summary>
public sealed record ItemsOrdered(string OrderId, IReadOnlyList<OrderItem> Items) : IShopEvent
{
    public static TopicSpec Topic => ReservationsTopic.Spec;
    public string PartitionKey() => OrderId;
}
