using Shop.ServiceDefaults.Messaging;

namespace Shop.Contracts.Orders;

// The orders topic, keyed by order_id: every event of one order stays in order on one partition.
// JSON field names are the seed's (snake_case: order_id, user_id, items, product_id, quantity,
// price, total_price); the event type travels in the `event-type` header. Money is the seed's
// decimal number on the wire; services store it as integer minor units (Money).

public static class OrdersTopic
{
    public static readonly TopicSpec Spec = new("orders", Partitions: 3);
}

public sealed record OrderItem(string ProductId, int Quantity, decimal Price);

/// <summary>WebShop → orders: a customer placed an order (validated, total recomputed).</summary>
public sealed record OrderPlaced(string OrderId, string UserId, string Email, IReadOnlyList<OrderItem> Items, decimal TotalPrice) : IShopEvent
{
    public static TopicSpec Topic => OrdersTopic.Spec;
    public string PartitionKey() => OrderId;
}

/// <summary>Orders → orders: the saga ended well.</summary>
public sealed record OrderCompleted(string OrderId, string UserId, string Email, decimal TotalPrice) : IShopEvent
{
    public static TopicSpec Topic => OrdersTopic.Spec;
    public string PartitionKey() => OrderId;
}

/// <summary>Orders → orders: the saga ended with a refusal.</summary>
public sealed record OrderRejected(string OrderId, string UserId, string Email, string Reason) : IShopEvent
{
    public static TopicSpec Topic => OrdersTopic.Spec;
    public string PartitionKey() => OrderId;
}
