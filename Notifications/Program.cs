using Shop.Notifications;
using Shop.Notifications.Handlers;
using Shop.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddShopMessaging("notifications");
builder.Services.AddSingleton<MailQueue>();
builder.Services.AddHostedService<MailSender>();
builder.AddEventHandler<WebApplicationBuilder, OrderOutcomeHandler>("notifications", Topics.Orders);

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
