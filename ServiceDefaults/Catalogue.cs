namespace Shop.ServiceDefaults;

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

/// <summary>
/// Money as SQLite keeps it: integer minor units (cents), so sums are exact and done by SQL. Events
/// carry the seed's decimal numbers; only amounts with at most two decimals are money.
/// </summary>
public static class Money
{
    public static long ToMinor(decimal amount)
    {
        var minor = amount * 100;
        if (minor != decimal.Truncate(minor)) throw new ArgumentException($"{amount} has more than two decimals.", nameof(amount));
        return checked((long)minor);
    }

    public static decimal FromMinor(long minor) => minor / 100m;
}
