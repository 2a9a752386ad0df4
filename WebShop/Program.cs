using Shop.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddBrokerConnection();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGet("/", () => TypedResults.Content(
    "<!doctype html><title>Shop on a log</title><h1>Shop on a log</h1><p>The storefront is coming.</p>",
    "text/html"));

app.Run();
