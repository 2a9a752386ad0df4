using Shop.Inventory;
using Shop.Inventory.Apis;
using Shop.Inventory.Handlers;
using Shop.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddShopMessaging("inventory");
builder.Services.AddSingleton<StockStore>();
builder.AddEventHandler<WebApplicationBuilder, ReservationHandler>("inventory", Topics.Orders);

var app = builder.Build();

app.Services.GetRequiredService<StockStore>(); // seed before serving
app.MapDefaultEndpoints();
app.MapStockApi();

app.Run();
