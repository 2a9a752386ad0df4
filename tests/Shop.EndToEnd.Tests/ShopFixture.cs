using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shop.Testing;

namespace Shop.EndToEnd.Tests;

/// <summary>The whole AppHost (broker, four services, mail catcher) on random ports and a temporary data folder, shared by a test class.</summary>
public class ShopFixture : IAsyncLifetime
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly DirectoryInfo _dataDir = Directory.CreateTempSubdirectory("shop-e2e-");

    /// <summary>The AppHost's data folder (what <c>AppHost/data</c> is under <c>dotnet run</c>): the broker's partitions in <c>broker/</c>, each service's SQLite file in its own folder.</summary>
    public string DataDir => _dataDir.FullName;

    public DistributedApplication App { get; private set; } = null!;

    private readonly RecentResourceLogs _recentLogs = new();

    public HttpClient WebShop { get; private set; } = null!;

    public HttpClient Inventory { get; private set; } = null!;

    public HttpClient Mail { get; private set; } = null!;

    public HttpClient BrokerConsole { get; protected set; } = null!;

    public string BrokerAddress { get; private set; } = "";

    /// <summary>The broker's principals and their passwords, chosen by the test (the AppHost would generate them).</summary>
    public Dictionary<string, string> Passwords { get; } = new[] { "admin", "webshop", "orders", "inventory", "notifications" }
        .ToDictionary(Shop.AppHost.BrokerAccessExtensions.PasswordParameter, _ => Guid.NewGuid().ToString("N"));

    public string Password(string user) => Passwords[Shop.AppHost.BrokerAccessExtensions.PasswordParameter(user)];

    /// <summary>A Kafka client config for the AppHost's broker as <paramref name="user"/> (admin: the super user).</summary>
    public Confluent.Kafka.ClientConfig BrokerClient(string user = "admin") => new()
    {
        BootstrapServers = BrokerAddress,
        SecurityProtocol = Confluent.Kafka.SecurityProtocol.SaslPlaintext,
        SaslMechanism = Confluent.Kafka.SaslMechanism.ScramSha512,
        SaslUsername = user,
        SaslPassword = Passwords[Shop.AppHost.BrokerAccessExtensions.PasswordParameter(user)],
    };

    /// <summary>False when the AppHost is pointed at a Kafka cluster of the test's own: then it has no broker resource of ours.</summary>
    protected virtual bool StartsBroker => true;

    /// <summary>The AppHost's command line.</summary>
    protected virtual IEnumerable<string> AppHostArguments() =>
        ["--Shop:RandomPorts=true", $"--Shop:DataDir={_dataDir.FullName}", $"--Shop:KafkaPort={LoopbackPort.Free()}",
         .. Passwords.Select(p => $"--Parameters:{p.Key}={p.Value}")];

    public virtual async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>([.. AppHostArguments()], timeout.Token);
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
        {
            // Without a dashboard nothing listens where Aspire points the OTLP exporters, and their
            // retries of failed exports hold up a stopping service past Aspire's stop timeout.
            builder.CreateResourceBuilder(project).WithEnvironment(context => context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT"));
        }
        builder.Services.AddLogging(logging => logging.AddProvider(_recentLogs));
        await ConfigureAsync(builder);
        App = await builder.BuildAsync(timeout.Token);
        try
        {
            await App.StartAsync(timeout.Token);
            foreach (var resource in new[] { "broker", "orders", "inventory", "notifications", "webshop", "mail" }.Where(r => StartsBroker || r != "broker"))
            {
                await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
            }
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"The AppHost did not get healthy in time.\n{DescribeResources()}", e);
        }
        WebShop = App.CreateHttpClient("webshop");
        Inventory = App.CreateHttpClient("inventory");
        Mail = App.CreateHttpClient("mail", "http");
        if (StartsBroker)
        {
            BrokerConsole = App.CreateHttpClient("broker", "http");
            // The console asks for a broker user when the Kafka port does (SASL under the AppHost).
            BrokerConsole.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"admin:{Password("admin")}")));
        }
        BrokerAddress = (await App.GetConnectionStringAsync("broker", timeout.Token))!;
    }

    /// <summary>Each resource's state, health and last log lines: what a start that timed out leaves to go on.</summary>
    private string DescribeResources()
    {
        var text = new System.Text.StringBuilder();
        foreach (var resource in App.Services.GetRequiredService<DistributedApplicationModel>().Resources)
        {
            var state = App.ResourceNotifications.TryGetCurrentState(resource.Name, out var current)
                ? $"{current.Snapshot.State?.Text ?? "no state"}, health {current.Snapshot.HealthStatus?.ToString() ?? "none"}, exit {current.Snapshot.ExitCode?.ToString() ?? "-"}"
                : "no snapshot";
            text.AppendLine($"== {resource.Name}: {state}");
            foreach (var line in _recentLogs.Of(resource.Name)) text.AppendLine($"   {line}");
        }
        return text.ToString();
    }

    /// <summary>Changes to the app model before it starts (a subclass may, say, point telemetry elsewhere).</summary>
    protected virtual Task ConfigureAsync(IDistributedApplicationTestingBuilder builder) => Task.CompletedTask;


    public async Task StopAsync(string resource)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var result = await App.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StopCommand, timeout.Token);
        var state = App.ResourceNotifications.TryGetCurrentState(resource, out var current)
            ? $"{current.Snapshot.State?.Text} exit {current.Snapshot.ExitCode}" : "unknown";
        Assert.True(result.Success, $"{result.Message} (state: {state}); `dotnet test -v n` shows the resources' logs");
        await App.ResourceNotifications.WaitForResourceAsync(resource, [KnownResourceStates.Exited, KnownResourceStates.Finished], timeout.Token);
    }

    public async Task StartAsync(string resource)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var result = await App.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand, timeout.Token);
        Assert.True(result.Success, result.Message);
        await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
    }

    public virtual async Task DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        try { _dataDir.Delete(recursive: true); } catch (IOException) { }
    }

    public sealed record StatusChange(string Status, string? Detail, string At);

    public sealed record OrderView(string OrderId, string Status, string? Reason, List<StatusChange> History);

    public sealed record Accepted(string OrderId, string Status, string StatusUrl);

    /// <summary>An order of customer-1 with the right total.</summary>
    public static object Order(params (string Product, int Quantity, decimal Price)[] lines) => new
    {
        user_id = "customer-1",
        items = lines.Select(l => new { product_id = l.Product, quantity = l.Quantity, price = l.Price }).ToArray(),
        total_price = lines.Sum(l => l.Quantity * l.Price),
    };

    /// <summary>Places an order that must be accepted; its id.</summary>
    public async Task<string> PlaceAcceptedAsync(object order)
    {
        var response = await PlaceAsync(order);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<Accepted>(Json))!;
        Assert.Equal($"/api/orders/{accepted.OrderId}", accepted.StatusUrl);
        return accepted.OrderId;
    }

    public async Task<HttpResponseMessage> PlaceAsync(object order) =>
        await WebShop.PostAsync("/api/orders", JsonContent.Create(order, options: Json));

    /// <summary>Follows an order until <paramref name="done"/> says so (the services work asynchronously).</summary>
    public Task<OrderView> AwaitOrderAsync(string orderId, Func<OrderView, bool> done, int seconds = 60) =>
        Eventually.GetAsync(async () => (await WebShop.GetFromJsonAsync<OrderView>($"/api/orders/{orderId}", Json))!, done,
            view => $"order {orderId} never got there; last seen: {JsonSerializer.Serialize(view)}", TimeSpan.FromSeconds(seconds));

    public static bool Finished(OrderView view) => view.History.Any(h => h.Status == "Notified");

    public async Task<Dictionary<string, int>> StockAsync() =>
        (await Inventory.GetFromJsonAsync<Dictionary<string, int>>("/api/stock", Json))!;

    /// <summary>
    /// The subjects of the mails about <paramref name="orderId"/> in the mail catcher, once there are at
    /// least <paramref name="atLeast"/> (or after 10 s). The catcher can answer an SMTP DATA before its API
    /// lists the message, so a mail recorded as sent (the order's "Notified") can be a moment from showing.
    /// </summary>
    public async Task<List<string>> MailsAboutAsync(string orderId, int atLeast = 0)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var page = JsonDocument.Parse(await Mail.GetStringAsync("/api/messages?pageSize=1000"));
            var subjects = page.RootElement.GetProperty("results").EnumerateArray()
                .Select(m => m.GetProperty("subject").GetString()!)
                .Where(s => s.Contains(orderId, StringComparison.Ordinal))
                .ToList();
            if (subjects.Count >= atLeast || DateTime.UtcNow >= deadline) return subjects;
            await Task.Delay(100);
        }
    }

    /// <summary>Log end offsets of a topic's partitions, from the broker console.</summary>
    public async Task<long> EndOffsetSumAsync(string topic)
    {
        using var topics = JsonDocument.Parse(await BrokerConsole.GetStringAsync("/api/topics"));
        return topics.RootElement.EnumerateArray().Where(t => t.GetProperty("name").GetString() == topic)
            .SelectMany(t => t.GetProperty("partitions").EnumerateArray()).Sum(p => p.GetProperty("log_end_offset").GetInt64());
    }

    /// <summary>Waits until consumer group <paramref name="groupId"/> has committed up to the end of every partition it reads.</summary>
    public Task AwaitGroupCaughtUpAsync(string groupId, int seconds = 60) =>
        Eventually.GetAsync(() => BrokerConsole.GetStringAsync($"/api/groups/{groupId}"), CaughtUp,
            last => $"group {groupId} never caught up; last lag: {last}", TimeSpan.FromSeconds(seconds));

    private static bool CaughtUp(string group)
    {
        using var parsed = JsonDocument.Parse(group);
        var partitions = parsed.RootElement.GetProperty("offsets").EnumerateArray().ToList();
        return partitions.Count > 0 && partitions.All(p => p.GetProperty("lag").GetInt64() == 0);
    }
}
