using Microsoft.AspNetCore.Http.HttpResults;

namespace Shop.Orders.Apis;

public static class OrdersApi
{
    public static WebApplication MapOrdersApi(this WebApplication app)
    {
        app.MapGet("/api/orders/{orderId}", Results<Ok<OrderRecord>, NotFound> (string orderId, OrderStore orders) =>
            orders.Find(orderId) is { } order ? TypedResults.Ok(order) : TypedResults.NotFound());
        return app;
    }
}
