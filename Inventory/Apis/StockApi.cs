using Microsoft.AspNetCore.Http.HttpResults;

namespace Shop.Inventory.Apis;

public static class StockApi
{
    public sealed record Restock(int Quantity);

    public static WebApplication MapStockApi(this WebApplication app)
    {
        app.MapGet("/api/stock", (StockStore stock) => TypedResults.Ok(stock.Levels()));
        app.MapPost("/api/stock/{productId}/restock", async Task<Results<Ok<int>, NotFound<string>, ValidationProblem>> (string productId, Restock body, StockStore stock, CancellationToken cancellationToken) =>
        {
            if (body.Quantity <= 0)
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["quantity"] = ["Restock quantity must be positive."] });
            return await stock.RestockAsync(productId, body.Quantity, cancellationToken) is { } level ? TypedResults.Ok(level) : TypedResults.NotFound($"Unknown product {productId}.");
        });
        // The dashboard's "Restock all": every product back up to at least its initial stock.
        app.MapPost("/api/stock/restock-all", async (StockStore stock, CancellationToken cancellationToken) => TypedResults.Ok(await stock.RestockAllAsync(cancellationToken)));
        return app;
    }
}
