using System.Text.Json;
using Microsoft.Data.Sqlite;
using Shop.ServiceDefaults.Messaging;
using Shop.ServiceDefaults.Messaging.Events;

namespace Shop.Orders;

public sealed record OrderRecord(string OrderId, string UserId, string Email, decimal TotalPrice, string Status, string? Reason, DateTimeOffset CreatedAt);

/// <summary>Orders in the Orders service's SQLite file: the saga's state, one row per order.</summary>
public sealed class OrderStore
{
    public const string Pending = "Pending";
    public const string Completed = "Completed";
    public const string Rejected = "Rejected";

    private readonly ServiceDatabase _database;

    public OrderStore(ServiceDatabase database)
    {
        _database = database;
        using var connection = database.Open();
        ServiceDatabase.Execute(connection, """
            CREATE TABLE IF NOT EXISTS orders (
                order_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, email TEXT NOT NULL, total_price TEXT NOT NULL,
                items TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)
            """);
    }

    /// <summary>Stores a new order as Pending; false when it was stored before.</summary>
    public static bool Insert(SqliteTransaction transaction, OrderPlaced order) =>
        ServiceDatabase.Execute(transaction.Connection!, """
            INSERT OR IGNORE INTO orders (order_id, user_id, email, total_price, items, status, created_at, updated_at)
            VALUES ($id, $user, $email, $total, $items, $status, $now, $now)
            """, transaction,
            ("$id", order.OrderId), ("$user", order.UserId), ("$email", order.Email), ("$total", order.TotalPrice.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("$items", JsonSerializer.Serialize(order.Items, EventJson.Options)), ("$status", Pending), ("$now", DateTimeOffset.UtcNow.ToString("O"))) == 1;

    /// <summary>Moves a Pending order to its outcome; null when the order is unknown or already decided.</summary>
    public static OrderRecord? Decide(SqliteTransaction transaction, string orderId, string status, string? reason)
    {
        var changed = ServiceDatabase.Execute(transaction.Connection!,
            "UPDATE orders SET status = $status, reason = $reason, updated_at = $now WHERE order_id = $id AND status = $pending", transaction,
            ("$status", status), ("$reason", reason), ("$now", DateTimeOffset.UtcNow.ToString("O")), ("$id", orderId), ("$pending", Pending));
        return changed == 1 ? Find(transaction.Connection!, transaction, orderId) : null;
    }

    public OrderRecord? Find(string orderId)
    {
        using var connection = _database.Open();
        return Find(connection, null, orderId);
    }

    private static OrderRecord? Find(SqliteConnection connection, SqliteTransaction? transaction, string orderId)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT order_id, user_id, email, total_price, status, reason, created_at FROM orders WHERE order_id = $id";
        command.Parameters.AddWithValue("$id", orderId);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new OrderRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                decimal.Parse(reader.GetString(3), System.Globalization.CultureInfo.InvariantCulture), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                DateTimeOffset.Parse(reader.GetString(6), System.Globalization.CultureInfo.InvariantCulture))
            : null;
    }
}
