using Microsoft.Data.Sqlite;
using Shop.Contracts.Orders;
using Shop.Contracts.StockLevels;
using Shop.ServiceDefaults;
using Shop.ServiceDefaults.Messaging;

namespace Shop.Inventory;

/// <summary>
/// Stock levels in Inventory's SQLite file. A reservation takes every line of an order or none, in
/// one transaction (SQLite serializes writers), so stock never goes below zero; every change
/// publishes the product's new level to the compacted stock-levels topic through the outbox.
/// </summary>
public sealed class StockStore(ServiceDatabase database, Outbox outbox)
{
    /// <summary>The stock table; at every start, products new to the catalogue get their initial stock (and its StockLevelChanged).</summary>
    public static DatabaseSchema Schema(IServiceProvider services) => new("stock",
        [Migration.Sql(1, "stock", "CREATE TABLE IF NOT EXISTS stock (product_id TEXT PRIMARY KEY, quantity INTEGER NOT NULL CHECK (quantity >= 0))")],
        OnStart: write =>
        {
            var outbox = services.GetRequiredService<Outbox>();
            foreach (var product in Catalogue.Products)
            {
                if (write.Execute("INSERT OR IGNORE INTO stock (product_id, quantity) VALUES ($id, $q)", ("$id", product.ProductId), ("$q", product.InitialStock)) == 1)
                {
                    outbox.Enqueue(write, new StockLevelChanged(product.ProductId, product.InitialStock));
                }
            }
            return Task.CompletedTask;
        });

    public IReadOnlyDictionary<string, int> Levels()
    {
        using var connection = database.Open();
        using var command = ServiceDatabase.Command(connection, LevelsSql);
        return ReadLevels(command);
    }

    private const string LevelsSql = "SELECT product_id, quantity FROM stock ORDER BY product_id";

    private static Dictionary<string, int> ReadLevels(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var levels = new Dictionary<string, int>();
        while (reader.Read()) levels[reader.GetString(0)] = reader.GetInt32(1);
        return levels;
    }

    /// <summary>Reserves every line or none. Returns null when reserved, else the reason.</summary>
    public string? Reserve(WriteTransaction write, IReadOnlyList<OrderItem> items)
    {
        var levels = ReadLevels(write.Command(LevelsSql));
        var wanted = items.GroupBy(i => i.ProductId).Select(g => (ProductId: g.Key, Quantity: g.Sum(i => i.Quantity))).ToList();
        foreach (var (productId, quantity) in wanted)
        {
            if (!levels.TryGetValue(productId, out var available)) return $"Unknown product {productId}.";
            if (quantity <= 0) return $"Quantity of {productId} must be positive.";
            if (quantity > available) return $"Not enough stock of {productId}: {quantity} ordered, {available} available.";
        }
        foreach (var (productId, quantity) in wanted)
        {
            write.Execute("UPDATE stock SET quantity = quantity - $q WHERE product_id = $id", ("$q", quantity), ("$id", productId));
            outbox.Enqueue(write, new StockLevelChanged(productId, levels[productId] - quantity));
        }
        return null;
    }

    /// <summary>Adds stock; returns the new level, or null for an unknown product.</summary>
    public async Task<int?> RestockAsync(string productId, int quantity, CancellationToken cancellationToken)
    {
        await using var write = await database.BeginWriteAsync(cancellationToken);
        if (write.Execute("UPDATE stock SET quantity = quantity + $q WHERE product_id = $id", ("$q", quantity), ("$id", productId)) == 0)
            return null;
        var level = ReadLevels(write.Command(LevelsSql))[productId];
        outbox.Enqueue(write, new StockLevelChanged(productId, level));
        await write.CommitAsync();
        return level;
    }

    /// <summary>
    /// Tops every product below its initial stock back up to it, in one transaction (each change
    /// published on stock-levels); returns every level afterwards.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, int>> RestockAllAsync(CancellationToken cancellationToken)
    {
        await using var write = await database.BeginWriteAsync(cancellationToken);
        var levels = ReadLevels(write.Command(LevelsSql));
        foreach (var product in Catalogue.Products.Where(p => levels.TryGetValue(p.ProductId, out var level) && level < p.InitialStock))
        {
            write.Execute("UPDATE stock SET quantity = $q WHERE product_id = $id", ("$q", product.InitialStock), ("$id", product.ProductId));
            outbox.Enqueue(write, new StockLevelChanged(product.ProductId, product.InitialStock));
            levels[product.ProductId] = product.InitialStock;
        }
        await write.CommitAsync();
        return levels;
    }
}
