using Shop.ServiceDefaults.Messaging;
using Shop.WebShop;
using Shop.WebShop.Apis;
using Shop.WebShop.Handlers;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddShopMessaging("webshop");
builder.Services.AddSingleton<OrderViews>();
builder.Services.AddProblemDetails();
builder.AddEventHandler<WebApplicationBuilder, OrderStatusHandler>("webshop", Topics.Orders, Topics.Inventory, Topics.Notifications);
builder.AddEventHandler<WebApplicationBuilder, StockLevelHandler>("webshop-stock", Topics.StockLevels);

var app = builder.Build();

app.Services.GetRequiredService<OrderViews>();
app.MapDefaultEndpoints();
app.UseDefaultFiles();
app.UseStaticFiles();
app.MapOrdersApi();

app.Run();
