using Shop.Contracts.Inventory;
using Shop.Contracts.Reservations;
using Shop.Contracts.StockLevels;
using Shop.Inventory;
using Shop.Inventory.Apis;
using Shop.Inventory.Handlers;
using Shop.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddShopMessaging("inventory")
    .Publishes(InventoryTopic.Spec)
    .Publishes(StockLevelsTopic.Spec)
    .AddEventHandler<ItemsOrdered, ReservationHandler>();
builder.Services.AddDatabaseSchema(StockStore.Schema);
builder.Services.AddSingleton<StockStore>();

var app = builder.Build();

var stock = app.Services.GetRequiredService<StockStore>();
Shop.ServiceDefaults.ShopMetrics.Meter.CreateObservableGauge("shop.inventory.stock_level",
    () => stock.Levels().Select(l => new System.Diagnostics.Metrics.Measurement<int>(l.Value, new KeyValuePair<string, object?>("shop.product.id", l.Key))),
    "{unit}", "Units in stock per product");
app.MapDefaultEndpoints();
app.MapStockApi();

app.Run();
