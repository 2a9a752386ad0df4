using Shop.Contracts.Notifications;
using Shop.Contracts.Orders;
using Shop.Notifications;
using Shop.Notifications.Handlers;
using Shop.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddShopMessaging("notifications")
    .Publishes(NotificationsTopic.Spec)
    .AddEventHandler<OrderCompleted, OrderOutcomeHandler>()
    .AddEventHandler<OrderRejected, OrderOutcomeHandler>();
builder.Services.AddDatabaseSchema(MailQueue.Schema);
builder.Services.AddSingleton<MailQueue>();
builder.Services.AddHostedService<MailSender>();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
