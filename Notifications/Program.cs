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
    .AddEventHandler<OrderRejected, OrderOutcomeHandler>()
    // Off the order's path (the order is complete; the mail follows): a tenth of a second is nothing
    // to a customer, and the group reads the whole orders topic, three events an order of which it
    // passes over two.
    .WaitsForBatches("notifications", TimeSpan.FromMilliseconds(100));
builder.Services.AddDatabaseSchema(MailQueue.Schema);
builder.Services.AddSingleton<MailQueue>();
builder.Services.AddHostedService<MailSender>();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
