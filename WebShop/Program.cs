using Shop.ServiceDefaults.Messaging;
using Shop.WebShop;
using Shop.WebShop.Apis;
using Shop.WebShop.Handlers;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddShopMessaging("webshop");
builder.Services.AddSingleton<OrderViews>();
builder.Services.AddSingleton<OrderStatusFeed>();
builder.Services.AddSingleton<SalesAnalytics>();
builder.Services.AddProblemDetails();
builder.AddEventHandler<WebApplicationBuilder, OrderStatusHandler>("webshop", Topics.Orders, Topics.Inventory, Topics.Notifications);
builder.AddEventHandler<WebApplicationBuilder, StockLevelHandler>("webshop-stock", Topics.StockLevels);
builder.AddEventHandler<WebApplicationBuilder, SalesAnalyticsHandler>(SalesAnalytics.ConsumerGroup, Topics.Orders);

var app = builder.Build();

app.Services.GetRequiredService<OrderViews>();
app.Services.GetRequiredService<SalesAnalytics>();
app.MapDefaultEndpoints();
app.UseDefaultFiles();
app.UseStaticFiles();
app.MapOrdersApi();
app.MapGet("/api/analytics", (SalesAnalytics analytics) => TypedResults.Ok(analytics.Summary()));

app.Run();
