using Microsoft.Data.Sqlite;
using Shop.ServiceDefaults.Messaging;
using Shop.ServiceDefaults.Messaging.Events;

namespace Shop.Inventory;

/// <summary>
/// Stock levels in Inventory's SQLite file. A reservation takes every line of an order or none, in
/// one transaction (SQLite serializes writers), so stock never goes below zero; every change
/// publishes the product's new level to the compacted stock-levels topic through the outbox.
/// </summary>
public sealed class StockStore
{
    private readonly ServiceDatabase _database;
    private readonly Outbox _outbox;

    public StockStore(ServiceDatabase database, Outbox outbox)
    {
        _database = database;
        _outbox = outbox;
        using var write = database.BeginWrite();
        var (connection, transaction) = (write.Connection, write.Transaction);
        ServiceDatabase.Execute(connection, "CREATE TABLE IF NOT EXISTS stock (product_id TEXT PRIMARY KEY, quantity INTEGER NOT NULL CHECK (quantity >= 0))", transaction);
        foreach (var product in Catalogue.Products)
        {
            if (ServiceDatabase.Execute(connection, "INSERT OR IGNORE INTO stock (product_id, quantity) VALUES ($id, $q)", transaction,
                    ("$id", product.ProductId), ("$q", product.InitialStock)) == 1)
            {
                _outbox.Enqueue(transaction, Topics.StockLevels, product.ProductId, new StockLevelChanged(product.ProductId, product.InitialStock));
            }
        }
        write.Commit();
        _outbox.Committed();
    }

    public IReadOnlyDictionary<string, int> Levels()
    {
        using var connection = _database.Open();
        return ReadLevels(connection, null);
    }

    private static Dictionary<string, int> ReadLevels(SqliteConnection connection, SqliteTransaction? transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT product_id, quantity FROM stock ORDER BY product_id";
        using var reader = command.ExecuteReader();
        var levels = new Dictionary<string, int>();
        while (reader.Read()) levels[reader.GetString(0)] = reader.GetInt32(1);
        return levels;
    }

    /// <summary>Reserves every line or none. Returns null when reserved, else the reason.</summary>
    public string? Reserve(SqliteTransaction transaction, IReadOnlyList<OrderItem> items)
    {
        var connection = transaction.Connection!;
        var levels = ReadLevels(connection, transaction);
        var wanted = items.GroupBy(i => i.ProductId).Select(g => (ProductId: g.Key, Quantity: g.Sum(i => i.Quantity))).ToList();
        foreach (var (productId, quantity) in wanted)
        {
            if (!levels.TryGetValue(productId, out var available)) return $"Unknown product {productId}.";
            if (quantity <= 0) return $"Quantity of {productId} must be positive.";
            if (quantity > available) return $"Not enough stock of {productId}: {quantity} ordered, {available} available.";
        }
        foreach (var (productId, quantity) in wanted)
        {
            ServiceDatabase.Execute(connection, "UPDATE stock SET quantity = quantity - $q WHERE product_id = $id", transaction, ("$q", quantity), ("$id", productId));
            _outbox.Enqueue(transaction, Topics.StockLevels, productId, new StockLevelChanged(productId, levels[productId] - quantity));
        }
        return null;
    }

    /// <summary>Adds stock; returns the new level, or null for an unknown product.</summary>
    public int? Restock(string productId, int quantity)
    {
        using var write = _database.BeginWrite();
        var (connection, transaction) = (write.Connection, write.Transaction);
        if (ServiceDatabase.Execute(connection, "UPDATE stock SET quantity = quantity + $q WHERE product_id = $id", transaction, ("$q", quantity), ("$id", productId)) == 0)
            return null;
        var level = ReadLevels(connection, transaction)[productId];
        _outbox.Enqueue(transaction, Topics.StockLevels, productId, new StockLevelChanged(productId, level));
        write.Commit();
        _outbox.Committed();
        return level;
    }

    /// <summary>
    /// Tops every product below its initial stock back up to it, in one transaction (each change
    /// published on stock-levels); returns every level afterwards.
    /// </summary>
    public IReadOnlyDictionary<string, int> RestockAll()
    {
        using var write = _database.BeginWrite();
        var (connection, transaction) = (write.Connection, write.Transaction);
        var levels = ReadLevels(connection, transaction);
        foreach (var product in Catalogue.Products.Where(p => levels.TryGetValue(p.ProductId, out var level) && level < p.InitialStock))
        {
            ServiceDatabase.Execute(connection, "UPDATE stock SET quantity = $q WHERE product_id = $id", transaction, ("$q", product.InitialStock), ("$id", product.ProductId));
            _outbox.Enqueue(transaction, Topics.StockLevels, product.ProductId, new StockLevelChanged(product.ProductId, product.InitialStock));
            levels[product.ProductId] = product.InitialStock;
        }
        write.Commit();
        _outbox.Committed();
        return levels;
    }
}
