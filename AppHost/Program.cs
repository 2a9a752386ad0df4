using Shop.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

// Fixed, documented addresses under `dotnet run`; tests set Shop:RandomPorts=true so runs never collide.
var ports = ShopPorts.From(builder.Configuration);
var repoRoot = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."));
var dataDir = Path.GetFullPath(builder.Configuration["Shop:DataDir"] ?? Path.Combine(builder.AppHostDirectory, "data"));

// Ours, unless Shop:Broker:ConnectionString points every service at a Kafka cluster (ShopBroker.cs).
var broker = builder.AddShopBroker<Projects.Broker>(ports.Kafka, Path.Combine(dataDir, "broker"));

var mail = builder.AddMailCatcher("mail", repoRoot, ports.MailUi, ports.Smtp);

builder.AddProject<Projects.Orders>("orders")
    .WithBrokerCredentials(broker)
    .WithEnvironment("Shop__DataDir", Path.Combine(dataDir, "orders"))
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Inventory>("inventory")
    .WithBrokerCredentials(broker)
    .WithInventoryCommands()
    .WithEnvironment("Shop__DataDir", Path.Combine(dataDir, "inventory"))
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Notifications>("notifications")
    .WithBrokerCredentials(broker)
    .WithReference(mail.GetEndpoint(MailCatcher.SmtpEndpointName)).WaitFor(mail)
    .WithEnvironment("Shop__DataDir", Path.Combine(dataDir, "notifications"))
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.WebShop>("webshop")
    .WithBrokerCredentials(broker)
    .WithEnvironment("Shop__DataDir", Path.Combine(dataDir, "webshop"))
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints()
    .WithStorefrontCommands()
    .WithUrlForEndpoint("http", url => url.DisplayText = "Storefront");

builder.Build().Run();
