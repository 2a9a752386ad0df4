using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Shop.ServiceDefaults;
using Shop.ServiceDefaults.Messaging;
using Shop.Contracts.Orders;

namespace Shop.WebShop.Apis;

/// <summary>
/// Placing orders and following them. The server checks what the client sends — products exist,
/// quantities are positive, prices and total_price match the catalogue — and refuses with a
/// problem-details 400 naming the field; only a valid order is written (with its OrderPlaced
/// event, through the outbox) and answered 202 with where to follow it.
/// </summary>
public static class OrdersApi
{
    public sealed record OrderLine(string? ProductId, int? Quantity, decimal? Price);

    public sealed record PlaceOrder(string? UserId, string? Email, List<OrderLine>? Items, decimal? TotalPrice);

    public sealed record OrderAccepted(string OrderId, string Status, string StatusUrl);

    public static WebApplication MapOrdersApi(this WebApplication app)
    {
        app.MapPost("/api/orders", PlaceAsync);
        app.MapGet("/api/orders/{orderId}", Results<Ok<OrderView>, NotFound> (string orderId, OrderViews views) =>
            views.Find(orderId) is { } view ? TypedResults.Ok(view) : TypedResults.NotFound());
        app.MapGet("/api/orders/{orderId}/events", OrderStatusStream.Follow);
        app.MapGet("/api/products", (OrderViews views) =>
        {
            var stock = views.Stock();
            return TypedResults.Ok(Catalogue.Products.Select(p => new
            {
                product_id = p.ProductId, name = p.Name, price = p.Price, in_stock = stock.TryGetValue(p.ProductId, out var q) ? q : (int?)null,
            }));
        });
        return app;
    }

    private static async Task<Results<Accepted<OrderAccepted>, ValidationProblem, ProblemHttpResult>> PlaceAsync(
        HttpRequest request, SharedCommit commits, Outbox outbox, ILogger<PlaceOrder> logger)
    {
        PlaceOrder? order;
        try
        {
            order = await JsonSerializer.DeserializeAsync<PlaceOrder>(request.Body, EventJson.Options, request.HttpContext.RequestAborted);
        }
        catch (JsonException ex)
        {
            return TypedResults.Problem(statusCode: 400, title: "Malformed JSON", detail: $"The order is not valid JSON: {ex.Message}");
        }
        if (order is null) return TypedResults.Problem(statusCode: 400, title: "Malformed JSON", detail: "The body must be a JSON object.");

        var errors = Validate(order);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The order is not valid");

        var orderId = Guid.NewGuid().ToString("N")[..12];
        var items = order.Items!.Select(i => new OrderItem(i.ProductId!, i.Quantity!.Value, i.Price!.Value)).ToList();
        var email = string.IsNullOrWhiteSpace(order.Email) ? $"{order.UserId}@customers.shop-on-a-log.local" : order.Email;
        // Orders placed at the same moment share one commit (and one fsync).
        await commits.WriteAsync(write =>
        {
            OrderViews.Record(write, orderId, "Placed");
            outbox.Enqueue(write, new OrderPlaced(orderId, order.UserId!, email, items, order.TotalPrice!.Value));
        }, request.HttpContext.RequestAborted);
        ShopMetrics.OrdersPlaced.Add(1);
        logger.LogInformation("Order {OrderId} placed by {UserId}: {Total}", orderId, order.UserId, order.TotalPrice);
        return TypedResults.Accepted($"/api/orders/{orderId}", new OrderAccepted(orderId, "Placed", $"/api/orders/{orderId}"));
    }

    public static Dictionary<string, string[]> Validate(PlaceOrder order)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(order.UserId)) errors["user_id"] = ["user_id is required."];
        if (order.Items is not { Count: > 0 }) errors["items"] = ["An order needs at least one item."];
        decimal expected = 0;
        for (var i = 0; i < (order.Items?.Count ?? 0); i++)
        {
            var line = order.Items![i];
            var product = line.ProductId is null ? null : Catalogue.Find(line.ProductId);
            if (product is null) { errors[$"items[{i}].product_id"] = [$"Unknown product '{line.ProductId}'."]; continue; }
            if (line.Quantity is not > 0) { errors[$"items[{i}].quantity"] = [$"Quantity must be a positive whole number, got {line.Quantity?.ToString() ?? "nothing"}."]; continue; }
            if (line.Price != product.Price) { errors[$"items[{i}].price"] = [string.Create(CultureInfo.InvariantCulture, $"Price of {product.ProductId} is {product.Price}, not {line.Price}.")]; continue; }
            expected += product.Price * line.Quantity.Value;
        }
        if (errors.Count == 0 && order.TotalPrice != expected)
            errors["total_price"] = [string.Create(CultureInfo.InvariantCulture, $"total_price {order.TotalPrice} does not match the items, which come to {expected}.")];
        return errors;
    }
}
