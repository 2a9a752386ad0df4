using Shop.Contracts.Inventory;
using Shop.Contracts.Orders;
using Shop.Contracts.Reservations;
using Shop.Orders;
using Shop.Orders.Apis;
using Shop.Orders.Handlers;
using Shop.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddShopMessaging("orders")
    .Publishes(OrdersTopic.Spec)
    .Publishes(ReservationsTopic.Spec)
    .AddEventHandler<OrderPlaced, OrderSagaHandler>()
    .AddEventHandler<StockReserved, OrderSagaHandler>()
    .AddEventHandler<StockRejected, OrderSagaHandler>();
builder.Services.AddDatabaseSchema(OrderStore.Schema);
builder.Services.AddSingleton<OrderStore>();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapOrdersApi();

app.Run();
