using Shop.Orders;
using Shop.Orders.Apis;
using Shop.Orders.Handlers;
using Shop.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddShopMessaging("orders");
builder.Services.AddSingleton<OrderStore>();
builder.AddEventHandler<WebApplicationBuilder, OrderSagaHandler>("orders", Topics.Orders, Topics.Inventory);

var app = builder.Build();

app.Services.GetRequiredService<OrderStore>();
app.MapDefaultEndpoints();
app.MapOrdersApi();

app.Run();
