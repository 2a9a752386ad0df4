using Shop.Broker;
using Shop.Broker.Console;
using Shop.Broker.Network;
using Shop.Broker.Storage;

var builder = WebApplication.CreateBuilder(args);

var options = builder.Configuration.GetSection(BrokerOptions.Section).Get<BrokerOptions>() ?? new BrokerOptions();
options.Validate();

builder.AddServiceDefaults();
builder.Services.AddBroker(options);
builder.AddKafkaListener(options);

var app = builder.Build();

// Open (and recover) the log and the committed offsets before the Kafka port accepts anyone.
var logs = app.Services.GetRequiredService<LogManager>();
app.Services.GetRequiredService<Shop.Broker.Groups.GroupCoordinator>();
Shop.Broker.Telemetry.BrokerTelemetry.ObserveLogEndOffsets(logs);

app.MapDefaultEndpoints();
app.MapConsoleApi();

app.Logger.LogInformation("Kafka protocol on port {Port} (advertised as {Host}:{Port}), data in {DataDir}",
    options.Port, options.AdvertisedHost, options.Port, Path.GetFullPath(options.DataDir));
app.Run();
GC.KeepAlive(logs);
