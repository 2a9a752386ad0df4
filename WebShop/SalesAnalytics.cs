using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Shop.ServiceDefaults.Messaging;
using Shop.ServiceDefaults.Messaging.Events;

namespace Shop.WebShop;

public sealed record ProductSales(string ProductId, string Name, int Units, decimal Revenue);

public sealed record SalesSummary(int OrdersPlaced, int OrdersCompleted, int OrdersRejected, decimal Revenue, IReadOnlyList<ProductSales> TopProducts);

/// <summary>
/// Sales figures (orders, revenue, top products) built from the orders topic by WebShop's own
/// consumer group <c>webshop-analytics</c>: a second reader of the same log, with its own offsets,
/// that could be dropped and rebuilt from the log at any time. Revenue counts completed orders only.
/// </summary>
public sealed class SalesAnalytics
{
    public const string ConsumerGroup = "webshop-analytics";

    /// <summary>Money is stored as invariant decimal text: SQLite's REAL would round it.</summary>
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private readonly ServiceDatabase _database;

    public SalesAnalytics(ServiceDatabase database)
    {
        _database = database;
        using var connection = database.Open();
        ServiceDatabase.Execute(connection, """
            CREATE TABLE IF NOT EXISTS sales_orders (order_id TEXT PRIMARY KEY, status TEXT NOT NULL, total_price TEXT NOT NULL, items TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS product_sales (product_id TEXT PRIMARY KEY, units INTEGER NOT NULL, revenue TEXT NOT NULL);
            """);
    }

    public static void Placed(SqliteTransaction transaction, OrderPlaced order) =>
        ServiceDatabase.Execute(transaction.Connection!, """
            INSERT OR IGNORE INTO sales_orders (order_id, status, total_price, items) VALUES ($id, 'Placed', $total, $items)
            """, transaction, ("$id", order.OrderId), ("$total", order.TotalPrice.ToString(Invariant)),
            ("$items", JsonSerializer.Serialize(order.Items, EventJson.Options)));

    public static void Rejected(SqliteTransaction transaction, string orderId) =>
        ServiceDatabase.Execute(transaction.Connection!, "UPDATE sales_orders SET status = 'Rejected' WHERE order_id = $id AND status = 'Placed'",
            transaction, ("$id", orderId));

    /// <summary>Counts the order's lines as sold, once: only the first completion of a placed order moves the figures.</summary>
    public static void Completed(SqliteTransaction transaction, string orderId)
    {
        var connection = transaction.Connection!;
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE sales_orders SET status = 'Completed' WHERE order_id = $id AND status = 'Placed' RETURNING items";
        command.Parameters.AddWithValue("$id", orderId);
        if (command.ExecuteScalar() is not string json) return;
        foreach (var item in JsonSerializer.Deserialize<List<OrderItem>>(json, EventJson.Options)!)
        {
            var (units, revenue) = Read(connection, transaction, item.ProductId);
            ServiceDatabase.Execute(connection, """
                INSERT INTO product_sales (product_id, units, revenue) VALUES ($id, $units, $revenue)
                ON CONFLICT (product_id) DO UPDATE SET units = excluded.units, revenue = excluded.revenue
                """, transaction, ("$id", item.ProductId), ("$units", units + item.Quantity),
                ("$revenue", (revenue + item.Quantity * item.Price).ToString(Invariant)));
        }
    }

    private static (int Units, decimal Revenue) Read(SqliteConnection connection, SqliteTransaction transaction, string productId)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT units, revenue FROM product_sales WHERE product_id = $id";
        command.Parameters.AddWithValue("$id", productId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt32(0), decimal.Parse(reader.GetString(1), Invariant)) : (0, 0m);
    }

    public SalesSummary Summary(int top = 5)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT status, total_price FROM sales_orders";
        int placed = 0, completed = 0, rejected = 0;
        decimal revenue = 0;
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                placed++;
                switch (reader.GetString(0))
                {
                    case "Completed": completed++; revenue += decimal.Parse(reader.GetString(1), Invariant); break;
                    case "Rejected": rejected++; break;
                }
            }
        }
        command.CommandText = "SELECT product_id, units, revenue FROM product_sales ORDER BY units DESC, product_id LIMIT $top";
        command.Parameters.AddWithValue("$top", top);
        var products = new List<ProductSales>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var id = reader.GetString(0);
                products.Add(new ProductSales(id, Catalogue.Find(id)?.Name ?? id, reader.GetInt32(1),
                    decimal.Parse(reader.GetString(2), Invariant)));
            }
        }
        return new SalesSummary(placed, completed, rejected, revenue, products);
    }
}
