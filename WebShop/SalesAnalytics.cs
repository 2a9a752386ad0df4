using System.Text.Json;
using Shop.Contracts.Orders;
using Shop.ServiceDefaults;
using Shop.ServiceDefaults.Messaging;

namespace Shop.WebShop;

public sealed record ProductSales(string ProductId, string Name, int Units, decimal Revenue);

public sealed record SalesSummary(int OrdersPlaced, int OrdersCompleted, int OrdersRejected, decimal Revenue, IReadOnlyList<ProductSales> TopProducts);

/// <summary>
/// Sales figures (orders, revenue, top products) built from the orders topic by WebShop's own
/// consumer group <c>webshop-analytics</c>: a second reader of the same log, with its own offsets,
/// that could be dropped and rebuilt from the log at any time. Revenue counts completed orders only.
/// Money is kept in integer minor units, so figures are summed by SQL, never read, changed and written back.
/// </summary>
public sealed class SalesAnalytics(ServiceDatabase database)
{
    public const string ConsumerGroup = "webshop-analytics";

    public static readonly DatabaseSchema Schema = new("sales",
    [
        Migration.Sql(1, "sales", """
            CREATE TABLE IF NOT EXISTS sales_orders (order_id TEXT PRIMARY KEY, status TEXT NOT NULL, total_price TEXT NOT NULL, items TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS product_sales (product_id TEXT PRIMARY KEY, units INTEGER NOT NULL, revenue TEXT NOT NULL);
            """),
        Migration.Sql(2, "money as integer minor units", """
            ALTER TABLE sales_orders ADD COLUMN total_minor INTEGER NOT NULL DEFAULT 0;
            UPDATE sales_orders SET total_minor = CAST(ROUND(CAST(total_price AS REAL) * 100) AS INTEGER);
            ALTER TABLE sales_orders DROP COLUMN total_price;
            ALTER TABLE product_sales ADD COLUMN revenue_minor INTEGER NOT NULL DEFAULT 0;
            UPDATE product_sales SET revenue_minor = CAST(ROUND(CAST(revenue AS REAL) * 100) AS INTEGER);
            ALTER TABLE product_sales DROP COLUMN revenue;
            """),
    ]);

    public static void Placed(WriteTransaction write, OrderPlaced order) =>
        write.Execute("INSERT OR IGNORE INTO sales_orders (order_id, status, total_minor, items) VALUES ($id, 'Placed', $total, $items)",
            ("$id", order.OrderId), ("$total", Money.ToMinor(order.TotalPrice)), ("$items", JsonSerializer.Serialize(order.Items, EventJson.Options)));

    public static void Rejected(WriteTransaction write, string orderId) =>
        write.Execute("UPDATE sales_orders SET status = 'Rejected' WHERE order_id = $id AND status = 'Placed'", ("$id", orderId));

    /// <summary>Counts the order's lines as sold, once: only the first completion of a placed order moves the figures.</summary>
    public static void Completed(WriteTransaction write, string orderId)
    {
        if (write.Scalar("UPDATE sales_orders SET status = 'Completed' WHERE order_id = $id AND status = 'Placed' RETURNING items", ("$id", orderId)) is not string json) return;
        foreach (var item in JsonSerializer.Deserialize<List<OrderItem>>(json, EventJson.Options)!)
        {
            write.Execute("""
                INSERT INTO product_sales (product_id, units, revenue_minor) VALUES ($id, $units, $revenue)
                ON CONFLICT (product_id) DO UPDATE SET units = units + excluded.units, revenue_minor = revenue_minor + excluded.revenue_minor
                """, ("$id", item.ProductId), ("$units", item.Quantity), ("$revenue", Money.ToMinor(item.Quantity * item.Price)));
        }
    }

    public SalesSummary Summary(int top = 5)
    {
        using var connection = database.Open();
        using var totals = ServiceDatabase.Command(connection, """
            SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'Completed'), COUNT(*) FILTER (WHERE status = 'Rejected'),
                   COALESCE(SUM(total_minor) FILTER (WHERE status = 'Completed'), 0)
            FROM sales_orders
            """);
        int placed, completed, rejected;
        long revenue;
        using (var reader = totals.ExecuteReader())
        {
            reader.Read();
            (placed, completed, rejected, revenue) = (reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt64(3));
        }
        using var best = ServiceDatabase.Command(connection,
            "SELECT product_id, units, revenue_minor FROM product_sales ORDER BY units DESC, product_id LIMIT $top", null, ("$top", top));
        var products = new List<ProductSales>();
        using (var reader = best.ExecuteReader())
        {
            while (reader.Read())
            {
                var id = reader.GetString(0);
                products.Add(new ProductSales(id, Catalogue.Find(id)?.Name ?? id, reader.GetInt32(1), Money.FromMinor(reader.GetInt64(2))));
            }
        }
        return new SalesSummary(placed, completed, rejected, Money.FromMinor(revenue), products);
    }
}
