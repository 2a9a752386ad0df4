using Shop.ServiceDefaults.Messaging;

namespace Shop.Contracts.Inventory;

// The inventory topic, keyed by order_id: Inventory's answer to each order's ItemsOrdered.

public static class InventoryTopic
{
    public static readonly TopicSpec Spec = new("inventory", Partitions: 3);
}

/// <summary>Inventory → inventory: every line of the order is reserved.</summary>
public sealed record StockReserved(string OrderId) : IShopEvent
{
    public static TopicSpec Topic => InventoryTopic.Spec;
    public string PartitionKey() => OrderId;
}

/// <summary>Inventory → inventory: nothing was reserved, and why.</summary>
public sealed record StockRejected(string OrderId, string Reason) : IShopEvent
{
    public static TopicSpec Topic => InventoryTopic.Spec;
    public string PartitionKey() => OrderId;
}
