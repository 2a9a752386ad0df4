using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Shop.Contracts.Orders;
using Shop.ServiceDefaults;
using Shop.ServiceDefaults.Messaging;

namespace Shop.Orders;

public sealed record OrderRecord(string OrderId, string UserId, string Email, decimal TotalPrice, string Status, string? Reason, DateTimeOffset CreatedAt);

/// <summary>Orders in the Orders service's SQLite file: the saga's state, one row per order.</summary>
public sealed class OrderStore(ServiceDatabase database)
{
    public const string Pending = "Pending";
    public const string Completed = "Completed";
    public const string Rejected = "Rejected";

    public static readonly DatabaseSchema Schema = new("orders",
    [
        Migration.Sql(1, "orders", """
            CREATE TABLE IF NOT EXISTS orders (
                order_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, email TEXT NOT NULL, total_price TEXT NOT NULL,
                items TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)
            """),
        Migration.Sql(2, "money as integer minor units", """
            ALTER TABLE orders ADD COLUMN total_minor INTEGER NOT NULL DEFAULT 0;
            UPDATE orders SET total_minor = CAST(ROUND(CAST(total_price AS REAL) * 100) AS INTEGER);
            ALTER TABLE orders DROP COLUMN total_price;
            """),
    ]);

    /// <summary>Stores a new order as Pending; false when it was stored before.</summary>
    public static bool Insert(WriteTransaction write, OrderPlaced order) =>
        write.Execute("""
            INSERT OR IGNORE INTO orders (order_id, user_id, email, total_minor, items, status, created_at, updated_at)
            VALUES ($id, $user, $email, $total, $items, $status, $now, $now)
            """,
            ("$id", order.OrderId), ("$user", order.UserId), ("$email", order.Email), ("$total", Money.ToMinor(order.TotalPrice)),
            ("$items", JsonSerializer.Serialize(order.Items, EventJson.Options)), ("$status", Pending), ("$now", DateTimeOffset.UtcNow.ToString("O"))) == 1;

    /// <summary>Moves a Pending order to its outcome; null when the order is unknown or already decided.</summary>
    public static OrderRecord? Decide(WriteTransaction write, string orderId, string status, string? reason)
    {
        var changed = write.Execute(
            "UPDATE orders SET status = $status, reason = $reason, updated_at = $now WHERE order_id = $id AND status = $pending",
            ("$status", status), ("$reason", reason), ("$now", DateTimeOffset.UtcNow.ToString("O")), ("$id", orderId), ("$pending", Pending));
        return changed == 1 ? Read(write.Command(FindSql, ("$id", orderId))) : null;
    }

    public OrderRecord? Find(string orderId)
    {
        using var connection = database.Open();
        using var command = ServiceDatabase.Command(connection, FindSql, null, ("$id", orderId));
        return Read(command);
    }

    private const string FindSql = "SELECT order_id, user_id, email, total_minor, status, reason, created_at FROM orders WHERE order_id = $id";

    private static OrderRecord? Read(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new OrderRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), Money.FromMinor(reader.GetInt64(3)),
                reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5), DateTimeOffset.Parse(reader.GetString(6), CultureInfo.InvariantCulture))
            : null;
    }
}
