using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Shop.AppHost;

/// <summary>
/// The dashboard's commands (each also runs through Aspire.Hosting.Testing): place the seed's
/// orders, start and stop load, restock, replay dead letters, reset a group, and open the broker
/// console at a trace. Each that changes data asks for confirmation first; each is enabled only
/// while its resource is healthy.
/// </summary>
public static class ShopCommands
{
    public const string PlaceSeedOrders = "place-seed-orders";
    public const string StartLoad = "start-load";
    public const string StopLoad = "stop-load";
    public const string RestockAll = "restock-all";
    public const string ReplayDeadLetters = "replay-dead-letters";
    public const string ResetGroup = "reset-group-to-earliest";
    public const string OpenConsoleAtTrace = "open-console-at-trace";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(60) };

    private static ResourceCommandState WhenHealthy(UpdateCommandStateContext context) =>
        context.ResourceSnapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
            ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;

    private static Uri HttpUrl(IResourceWithEndpoints resource) => new(resource.GetEndpoint("http").Url);

    public static IResourceBuilder<ProjectResource> WithStorefrontCommands(this IResourceBuilder<ProjectResource> webshop)
    {
        var orderCount = SeedOrders.All.Count;
        webshop.ApplicationBuilder.Services.AddSingleton<ShopLoad>();
        var defaultRate = double.TryParse(webshop.ApplicationBuilder.Configuration["Shop:Load:OrdersPerSecond"], NumberStyles.Float, CultureInfo.InvariantCulture, out var configured) ? configured : 10.0;
        return webshop
            .WithCommand(PlaceSeedOrders, "Place the seed's orders", context => PlaceSeedOrdersAsync(HttpUrl(webshop.Resource), context.CancellationToken), new CommandOptions
            {
                Description = $"The {orderCount} example orders of the Kafka introduction; the scenario's order 12345 has a wrong total_price and is refused.",
                ConfirmationMessage = $"Place the seed's {orderCount} example orders?",
                IconName = "CartArrowDown", IsHighlighted = true, UpdateState = WhenHealthy,
            })
            .WithCommand(StartLoad, "Start load", context =>
            {
                var rate = context.Arguments is { } arguments && arguments.TryGetByName("rate", out var input)
                    && double.TryParse(input.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var given) ? given : defaultRate;
                if (rate is <= 0 or > 1000) return Task.FromResult(CommandResults.Failure($"The rate must be between 0 and 1000 orders per second, not {rate}."));
                var logger = context.Logger;
                context.Services.GetRequiredService<ShopLoad>().Start(HttpUrl(webshop.Resource), rate, line => logger.LogInformation("{Line}", line));
                return Task.FromResult(CommandResults.Success($"Placing {rate.ToString(CultureInfo.InvariantCulture)} orders per second until \"Stop load\"."));
            }, new CommandOptions
            {
                Description = "Posts valid orders of random products to the storefront at a steady rate (default Shop:Load:OrdersPerSecond).",
                ConfirmationMessage = "Start placing orders continuously?",
                Arguments = [new InteractionInput { Name = "rate", Label = "Orders per second", InputType = InputType.Number, Value = defaultRate.ToString(CultureInfo.InvariantCulture) }],
                IconName = "Play", UpdateState = WhenHealthy,
            })
            .WithCommand(StopLoad, "Stop load", context =>
            {
                var load = context.Services.GetRequiredService<ShopLoad>();
                if (!load.IsRunning) return Task.FromResult(CommandResults.Success("No load was running."));
                load.Stop();
                return Task.FromResult(CommandResults.Success($"Load stopped: {load.Placed} orders placed, {load.Refused} refused."));
            }, new CommandOptions { Description = "Stops \"Start load\".", IconName = "Stop" });
    }

    private static async Task<ExecuteCommandResult> PlaceSeedOrdersAsync(Uri storefront, CancellationToken cancellationToken)
    {
        var placed = new List<object>();
        var refused = new List<object>();
        var report = new StringBuilder();
        foreach (var order in SeedOrders.All)
        {
            using var response = await Http.PostAsJsonAsync(new Uri(storefront, "/api/orders"), new { order.user_id, order.items, order.total_price }, cancellationToken);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            if (response.IsSuccessStatusCode)
            {
                var orderId = body.RootElement.GetProperty("order_id").GetString();
                placed.Add(new { seed_id = order.SeedId, order_id = orderId });
                report.AppendLine(CultureInfo.InvariantCulture, $"- {order.SeedId}: placed as {orderId}");
            }
            else
            {
                var errors = body.RootElement.TryGetProperty("errors", out var e)
                    ? e.EnumerateObject().SelectMany(p => p.Value.EnumerateArray().Select(m => m.GetString())).ToList()
                    : [body.RootElement.TryGetProperty("detail", out var d) ? d.GetString() : response.ReasonPhrase];
                refused.Add(new { seed_id = order.SeedId, status = (int)response.StatusCode, errors });
                report.AppendLine(CultureInfo.InvariantCulture, $"- {order.SeedId}: **refused**: {string.Join(" ", errors)}");
            }
        }
        var data = JsonSerializer.Serialize(new { placed, refused });
        return CommandResults.Success($"{placed.Count} placed, {refused.Count} refused. {report.ToString().Replace(Environment.NewLine, " ", StringComparison.Ordinal).Trim()}",
            data, CommandResultFormat.Json);
    }

    public static IResourceBuilder<ProjectResource> WithInventoryCommands(this IResourceBuilder<ProjectResource> inventory) =>
        inventory.WithHttpCommand("/api/stock/restock-all", "Restock all", commandName: RestockAll, commandOptions: new HttpCommandOptions
        {
            Method = HttpMethod.Post,
            Description = "Brings every product back up to its initial stock; each change goes out on stock-levels.",
            ConfirmationMessage = "Restock every product to its initial level?",
            IconName = "BoxMultipleArrowRight", UpdateState = WhenHealthy,
        });

    public static IResourceBuilder<BrokerResource> WithConsoleCommands(this IResourceBuilder<BrokerResource> broker, IEnumerable<string> groups)
    {
        var admin = broker.ApplicationBuilder.Resources.OfType<ParameterResource>().Single(p => p.Name == BrokerAccessExtensions.PasswordParameter(BrokerAccessExtensions.AdminUser));
        async Task<HttpRequestMessage> Request(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
        {
            var request = new HttpRequestMessage(method, new Uri(HttpUrl(broker.Resource), path));
            var credentials = $"{BrokerAccessExtensions.AdminUser}:{await admin.GetValueAsync(cancellationToken)}";
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
            if (body is not null) request.Content = JsonContent.Create(body);
            return request;
        }
        async Task<(bool Ok, JsonElement Body)> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
        {
            using var request = await Request(method, path, body, cancellationToken);
            using var response = await Http.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            return (response.IsSuccessStatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
        }
        static string Detail(JsonElement problem) => problem.ValueKind == JsonValueKind.Object && problem.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : problem.ToString();

        return broker
            .WithCommand(ReplayDeadLetters, "Replay dead letters", async context =>
            {
                var (ok, topics) = await SendAsync(HttpMethod.Get, "/api/dead-letters", null, context.CancellationToken);
                if (!ok) return CommandResults.Failure(Detail(topics));
                var replayed = new List<string>();
                foreach (var topic in topics.EnumerateArray().Where(t => t.GetProperty("pending").GetInt32() > 0))
                {
                    var name = topic.GetProperty("topic").GetString()!;
                    var (sent, result) = await SendAsync(HttpMethod.Post, $"/api/dead-letters/{Uri.EscapeDataString(name)}/replay", new { }, context.CancellationToken);
                    if (!sent) return CommandResults.Failure($"{name}: {Detail(result)}");
                    replayed.Add($"{result.GetProperty("replayed").GetArrayLength()} from {name}");
                }
                return CommandResults.Success(replayed.Count == 0 ? "No dead letters were waiting." : $"Replayed {string.Join(", ", replayed)}.");
            }, new CommandOptions
            {
                Description = "Sends every dead letter not replayed yet back to its topic and partition (inboxes de-duplicate by message id).",
                ConfirmationMessage = "Send every waiting dead letter back to its topic?",
                IconName = "ArrowReply", UpdateState = WhenHealthy,
            })
            .WithCommand(ResetGroup, "Reset a group to earliest", async context =>
            {
                var group = context.Arguments is { } arguments && arguments.TryGetByName("group", out var input) ? input.Value : null;
                if (string.IsNullOrWhiteSpace(group)) return CommandResults.Failure("Choose the consumer group to reset.");
                var (ok, result) = await SendAsync(HttpMethod.Post, $"/api/groups/{Uri.EscapeDataString(group)}/offsets/reset", new { to = "earliest" }, context.CancellationToken);
                return ok ? CommandResults.Success($"Group {group} will read from the start of its partitions (lag now {result.GetProperty("total_lag").GetInt64()}).")
                    : CommandResults.Failure(Detail(result));
            }, new CommandOptions
            {
                Description = "Moves a consumer group's committed offsets to the start of the log; as in Kafka, only while the group has no members (stop its service first).",
                ConfirmationMessage = "Reset the group's offsets to the earliest? Its service re-reads everything when it starts.",
                Arguments = [new InteractionInput
                {
                    Name = "group", Label = "Consumer group", InputType = InputType.Choice, Required = true,
                    Options = groups.Select(g => KeyValuePair.Create(g, g)).ToList(),
                }],
                IconName = "ArrowRewind", UpdateState = WhenHealthy,
            })
            .WithCommand(OpenConsoleAtTrace, "Open console at this trace", context =>
            {
                var traceId = (context.Arguments is { } arguments && arguments.TryGetByName("trace", out var input) ? input.Value : null)?.Trim().ToLowerInvariant();
                if (traceId is not { Length: 32 } || !traceId.All(Uri.IsHexDigit))
                    return Task.FromResult(CommandResults.Failure("A trace id is 32 hex digits (copy it from the trace's page in the dashboard)."));
                var url = new Uri(HttpUrl(broker.Resource), $"/#/traces/{traceId}");
                return Task.FromResult(CommandResults.Success($"Every message of trace {traceId}: {url}", $"[Open the broker console at trace {traceId}]({url})", CommandResultFormat.Markdown, true));
            }, new CommandOptions
            {
                Description = "Shows every message whose traceparent carries a trace id, across topics, in the broker console.",
                Arguments = [new InteractionInput { Name = "trace", Label = "Trace id", InputType = InputType.Text, Required = true, Placeholder = "4bf92f3577b34da6a3ce929d0e0e4736" }],
                IconName = "Search", UpdateState = WhenHealthy,
            });
    }
}
