namespace Shop.AppHost;

/// <summary>
/// The example orders of the seed (<c>../shared/seed/</c>): the scenario's order 12345, whose
/// total_price of 400 is wrong (its items come to 500), and the three orders its file broker
/// writes (0001–0003, correctly totalled). Field names are the seed's; the shop gives each order
/// its own id and checks every total.
/// </summary>
public static class SeedOrders
{
    public sealed record Line(string product_id, int quantity, decimal price);

    public sealed record Order(string SeedId, string user_id, Line[] items, decimal total_price);

    public static readonly IReadOnlyList<Order> All =
    [
        new("12345", "67890", [new("535", 1, 300), new("125", 2, 100)], 400),
        new("0001", "00001", [new("535", 1, 300), new("125", 2, 100)], 500),
        new("0002", "00002", [new("035", 7, 100), new("525", 1, 500)], 1200),
        new("0003", "00003", [new("035", 10, 100), new("525", 2, 500)], 2000),
    ];
}
