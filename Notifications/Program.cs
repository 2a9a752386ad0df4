using Shop.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddBrokerConnection();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
