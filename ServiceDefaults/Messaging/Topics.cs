namespace Shop.ServiceDefaults.Messaging;

/// <summary>The shop's topics, their partitions and configs; each has a dead-letter twin <c>&lt;topic&gt;.dlq</c>.</summary>
public static class Topics
{
    public const string Orders = "orders";
    public const string Inventory = "inventory";
    public const string Notifications = "notifications";
    public const string StockLevels = "stock-levels";

    public static string DeadLetter(string topic) => topic + ".dlq";

    public sealed record TopicSpec(string Name, int Partitions, IReadOnlyDictionary<string, string> Configs);

    public static IEnumerable<TopicSpec> All
    {
        get
        {
            TopicSpec[] main =
            [
                new(Orders, 3, new Dictionary<string, string>()),
                new(Inventory, 3, new Dictionary<string, string>()),
                new(Notifications, 3, new Dictionary<string, string>()),
                new(StockLevels, 1, new Dictionary<string, string> { ["cleanup.policy"] = "compact" }),
            ];
            return main.Concat(main.Select(t => new TopicSpec(DeadLetter(t.Name), 1, new Dictionary<string, string>())));
        }
    }
}

/// <summary>The catalogue every service agrees on (Inventory seeds its stock from it, WebShop prices orders with it).</summary>
public static class Catalogue
{
    public sealed record Product(string ProductId, string Name, decimal Price, int InitialStock);

    public static readonly IReadOnlyList<Product> Products =
    [
        new("535", "Mechanical keyboard", 300m, 25),
        new("125", "USB-C cable", 100m, 100),
        new("200", "Wireless mouse", 200m, 40),
        new("525", "27\" monitor", 500m, 10),
        new("035", "Sticker pack", 100m, 500),
    ];

    public static Product? Find(string productId) => Products.FirstOrDefault(p => p.ProductId == productId);
}
