using Shop.Broker;
using Shop.Broker.Console;
using Shop.Broker.Network;
using Shop.Broker.Storage;

// Configuration is read once, at start, as Kafka reads server.properties (topics change through
// AlterConfigs). Reloading it on change would watch the content root (the current directory) and
// everything below it, often the data folder too: every log write would then wake a file watcher
// (the broker's CPU per 16 KB request under flush interval 59-66 against 36-40 µs, bench/README).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [.. args, "--hostBuilder:reloadConfigOnChange=false"] });

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
