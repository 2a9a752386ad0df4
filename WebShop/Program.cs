using Shop.Contracts.Inventory;
using Shop.Contracts.Notifications;
using Shop.Contracts.Orders;
using Shop.Contracts.Reservations;
using Shop.Contracts.StockLevels;
using Shop.ServiceDefaults.Messaging;
using Shop.WebShop;
using Shop.WebShop.Apis;
using Shop.WebShop.Handlers;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
var readModelWait = TimeSpan.FromMilliseconds(100);
builder.AddShopMessaging("webshop")
    .Publishes(OrdersTopic.Spec)
    // The status page: every service's report on an order.
    .AddEventHandler<ItemsOrdered, OrderStatusHandler>()
    .AddEventHandler<StockReserved, OrderStatusHandler>()
    .AddEventHandler<StockRejected, OrderStatusHandler>()
    .AddEventHandler<OrderCompleted, OrderStatusHandler>()
    .AddEventHandler<OrderRejected, OrderStatusHandler>()
    .AddEventHandler<NotificationSent, OrderStatusHandler>()
    // The catalogue's availability, from the compacted stock-levels topic. Levels replace each
    // other, so a redelivery (which replays the log in order) ends right without an inbox.
    .AddEventHandler<StockLevelChanged, StockLevelHandler>(group: "webshop-stock", inbox: false)
    // Sales figures: a second reader of the orders topic, with its own offsets.
    .AddEventHandler<OrderPlaced, SalesAnalyticsHandler>(SalesAnalytics.ConsumerGroup)
    .AddEventHandler<OrderCompleted, SalesAnalyticsHandler>(SalesAnalytics.ConsumerGroup)
    .AddEventHandler<OrderRejected, SalesAnalyticsHandler>(SalesAnalytics.ConsumerGroup)
    // All three are read models, off the order's path: a tenth of a second later on the page is
    // invisible, and each group then takes its events in a few fetches and commits a second
    // instead of one per event.
    .WaitsForBatches("webshop", readModelWait)
    .WaitsForBatches("webshop-stock", readModelWait)
    .WaitsForBatches(SalesAnalytics.ConsumerGroup, readModelWait);
builder.Services.AddDatabaseSchema(OrderViews.Schema);
builder.Services.AddDatabaseSchema(SalesAnalytics.Schema);
builder.Services.AddSingleton<OrderViews>();
builder.Services.AddSingleton<OrderStatusFeed>();
builder.Services.AddSingleton<SalesAnalytics>();
builder.Services.AddProblemDetails();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseDefaultFiles();
app.UseStaticFiles();
app.MapOrdersApi();
app.MapGet("/api/analytics", (SalesAnalytics analytics) => TypedResults.Ok(analytics.Summary()));

app.Run();

