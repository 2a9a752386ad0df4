using Shop.Broker;
using Shop.Broker.Network;

var builder = WebApplication.CreateBuilder(args);

var options = builder.Configuration.GetSection(BrokerOptions.Section).Get<BrokerOptions>() ?? new BrokerOptions();
options.Validate();
builder.Services.AddSingleton(options);

builder.AddServiceDefaults();
builder.AddKafkaListener(options);

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGet("/", () => TypedResults.Content(
    "<!doctype html><title>Broker console</title><h1>Broker console</h1>", "text/html"));

app.Logger.LogInformation("Kafka protocol on port {Port}, data in {DataDir}", options.Port, Path.GetFullPath(options.DataDir));
app.Run();
