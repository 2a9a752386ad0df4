using Microsoft.Data.Sqlite;
using Shop.ServiceDefaults.Messaging;

namespace Shop.WebShop;

public sealed record OrderStatusChange(string Status, string? Detail, string At);

public sealed record OrderView(string OrderId, string Status, string? Reason, IReadOnlyList<OrderStatusChange> History);

/// <summary>
/// What the storefront shows of each order, built from the events of every service (WebShop's own
/// read model in its SQLite file), and the latest stock level of each product.
/// </summary>
public sealed class OrderViews(ServiceDatabase database)
{
    private static readonly HashSet<string> MainStatuses = ["Placed", "Pending", "Completed", "Rejected"];

    /// <summary>
    /// Where each status comes in an order's saga. The history is shown in this order, not in the
    /// order of arrival: its events come from three topics, and Kafka orders only within a partition,
    /// so a batch may bring an order's Notified before its StockReserved.
    /// </summary>
    private static readonly Dictionary<string, int> SagaStep = new()
    {
        ["Placed"] = 0, ["Pending"] = 1, ["StockReserved"] = 2, ["StockRejected"] = 2, ["Completed"] = 3, ["Rejected"] = 3, ["Notified"] = 4,
    };

    public static readonly DatabaseSchema Schema = new("order-views",
    [
        Migration.Sql(1, "order views, their history and the stock view", """
            CREATE TABLE IF NOT EXISTS order_views (order_id TEXT PRIMARY KEY, status TEXT NOT NULL, reason TEXT);
            CREATE TABLE IF NOT EXISTS order_history (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, status TEXT NOT NULL, detail TEXT, at TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS order_history_order ON order_history (order_id, id);
            CREATE TABLE IF NOT EXISTS stock_view (product_id TEXT PRIMARY KEY, quantity INTEGER NOT NULL);
            """),
    ]);

    /// <param name="at">When it happened: the event's record time (when its service published it); now by default.</param>
    public static void Record(WriteTransaction write, string orderId, string status, string? detail = null, DateTimeOffset? at = null)
    {
        write.Execute("INSERT INTO order_history (order_id, status, detail, at) VALUES ($id, $status, $detail, $at)",
            ("$id", orderId), ("$status", status), ("$detail", detail), ("$at", (at ?? DateTimeOffset.UtcNow).ToString("O")));
        if (!MainStatuses.Contains(status)) return;
        // A final status is never replaced by an earlier one arriving late from another topic.
        write.Execute("""
            INSERT INTO order_views (order_id, status, reason) VALUES ($id, $status, $reason)
            ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, reason = excluded.reason
            WHERE order_views.status NOT IN ('Completed', 'Rejected')
            """, ("$id", orderId), ("$status", status), ("$reason", status == "Rejected" ? detail : null));
    }

    public static void SetStock(WriteTransaction write, string productId, int quantity) =>
        write.Execute("""
            INSERT INTO stock_view (product_id, quantity) VALUES ($id, $q) ON CONFLICT (product_id) DO UPDATE SET quantity = excluded.quantity
            """, ("$id", productId), ("$q", quantity));

    public OrderView? Find(string orderId)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT status, reason FROM order_views WHERE order_id = $id";
        command.Parameters.AddWithValue("$id", orderId);
        string status;
        string? reason;
        using (var reader = command.ExecuteReader())
        {
            if (!reader.Read()) return null;
            status = reader.GetString(0);
            reason = reader.IsDBNull(1) ? null : reader.GetString(1);
        }
        command.CommandText = "SELECT status, detail, at FROM order_history WHERE order_id = $id ORDER BY id";
        using var history = command.ExecuteReader();
        var changes = new List<OrderStatusChange>();
        while (history.Read()) changes.Add(new OrderStatusChange(history.GetString(0), history.IsDBNull(1) ? null : history.GetString(1), history.GetString(2)));
        return new OrderView(orderId, status, reason, [.. changes.OrderBy(c => SagaStep.GetValueOrDefault(c.Status, int.MaxValue))]);
    }

    public IReadOnlyDictionary<string, int> Stock()
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT product_id, quantity FROM stock_view";
        using var reader = command.ExecuteReader();
        var stock = new Dictionary<string, int>();
        while (reader.Read()) stock[reader.GetString(0)] = reader.GetInt32(1);
        return stock;
    }
}
