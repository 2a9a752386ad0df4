using Shop.ServiceDefaults.Messaging;

namespace Shop.Contracts.StockLevels;

// The stock-levels topic, keyed by product_id and compacted: it always holds the latest level of
// every product. Levels are absolute, so their order per product matters (the outbox relay keeps it).

public static class StockLevelsTopic
{
    public static readonly TopicSpec Spec = new("stock-levels", Partitions: 1, Compacted: true);
}

/// <summary>Inventory → stock-levels: the current level of one product.</summary>
public sealed record StockLevelChanged(string ProductId, int Quantity) : IShopEvent
{
    public static TopicSpec Topic => StockLevelsTopic.Spec;
    public string PartitionKey() => ProductId;
}
