using Shop.Broker;
using Shop.Broker.Console;
using Shop.Broker.Network;
using Shop.Broker.Storage;

var builder = WebApplication.CreateBuilder(args);

var options = builder.Configuration.GetSection(BrokerOptions.Section).Get<BrokerOptions>() ?? new BrokerOptions();
options.Validate();

builder.AddServiceDefaults();
builder.Services.AddBroker(options);
builder.Services.AddConsole();
var remoteListeners = builder.AddKafkaListener(options);

var app = builder.Build();

// Open (and recover) the log and the committed offsets before the Kafka port accepts anyone.
var logs = app.Services.GetRequiredService<LogManager>();
app.Services.GetRequiredService<Shop.Broker.Groups.GroupCoordinator>();
// Users named in configuration are stored, and the SASL settings checked, before anyone can connect.
app.Services.GetRequiredService<Shop.Broker.Security.SaslMechanisms>();
app.Services.GetRequiredService<Shop.Broker.Security.Authorizer>();
Shop.Broker.Telemetry.BrokerTelemetry.ObserveLogEndOffsets(logs);

app.MapDefaultEndpoints();
app.MapConsoleApi();

app.Logger.LogInformation("Kafka listeners {Listeners} (advertised as {Host}), data in {DataDir}",
    string.Join(", ", KafkaEndpoint.From(options)), options.AdvertisedHost, Path.GetFullPath(options.DataDir));
if (remoteListeners.Count > 0)
{
    app.Logger.LogWarning("Listening beyond this machine WITHOUT authentication ({Listeners}): anyone who reaches these addresses can produce, read and delete every topic",
        string.Join(", ", remoteListeners));
}
app.Run();
GC.KeepAlive(logs);
