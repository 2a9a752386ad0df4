using System.Net;
using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Shop.Testing;

namespace Shop.EndToEnd.Tests;

/// <summary>The shop with every process (broker included) exporting OTLP to a receiver in the test, as it would to the dashboard.</summary>
public sealed class TracedShopFixture : ShopFixture
{
    public OtlpReceiver Receiver { get; private set; } = null!;

    protected override async Task ConfigureAsync(IDistributedApplicationTestingBuilder builder)
    {
        Receiver = await OtlpReceiver.StartAsync();
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
        {
            // Added after Aspire's own OTLP settings, so these win.
            builder.CreateResourceBuilder(project).WithEnvironment(context =>
            {
                foreach (var (name, value) in Receiver.Environment) context.EnvironmentVariables[name] = value;
                context.EnvironmentVariables["OTEL_SERVICE_NAME"] = project.Name;
            });
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}

public sealed class TracingTests(TracedShopFixture shop) : IClassFixture<TracedShopFixture>
{
    private sealed record Accepted(string OrderId);

    private static readonly string[] Services = ["webshop", "orders", "inventory", "notifications", "broker"];

    /// <summary>The spans of the trace the order's first send belongs to, once they form one tree that every service and the mail are in.</summary>
    private async Task<List<ReceivedSpan>> AwaitTraceAsync(string orderId)
    {
        return await Eventually.GetAsync(() =>
            {
                var first = shop.Receiver.Spans.FirstOrDefault(s => s.Service == "webshop" && s.Kind == SpanKind.Producer
                    && Equals(s.Attributes.GetValueOrDefault("messaging.kafka.message.key"), orderId));
                return first is null ? [] : shop.Receiver.Spans.Where(s => s.TraceId == first.TraceId).ToList();
            },
            Complete,
            trace => "the order's trace never became complete. Spans seen: "
                + string.Join("; ", trace.Select(s => $"{s.Service}:{s.Name}:{s.Kind}:{s.ParentSpanId}")));
    }

    private static bool Complete(List<ReceivedSpan> trace)
    {
        var ids = trace.Select(s => s.SpanId).ToHashSet();
        return Services.All(service => trace.Any(s => s.Service == service))
            && trace.Any(s => s.Name == "send mail")
            && trace.Any(s => s.Name == "process notifications" && s.Service == "webshop")
            && trace.All(s => s.ParentSpanId is null || ids.Contains(s.ParentSpanId))
            // Each service exports in its own batches: the broker's span of a send can come after the rest.
            && trace.Where(s => s.Kind == SpanKind.Producer && s.Name != "send mail")
                .All(send => trace.Any(s => s.Service == "broker" && s.ParentSpanId == send.SpanId));
    }

    [Fact]
    public async Task One_order_is_one_trace_through_every_service_and_the_broker()
    {
        var response = await shop.PlaceAsync(new
        {
            user_id = "traced-customer",
            items = new[] { new { product_id = "125", quantity = 1, price = 100m } },
            total_price = 100m,
        });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var orderId = (await response.Content.ReadFromJsonAsync<Accepted>(ShopFixture.Json))!.OrderId;
        await shop.AwaitOrderAsync(orderId, ShopFixture.Finished);

        var trace = await AwaitTraceAsync(orderId);
        var byId = trace.ToDictionary(s => s.SpanId);
        ReceivedSpan Parent(ReceivedSpan span) => byId[span.ParentSpanId!];

        // The root: WebShop answering the HTTP request that placed the order.
        var root = Assert.Single(trace, s => s.ParentSpanId is null);
        Assert.Equal(("webshop", SpanKind.Server), (root.Service, root.Kind));
        Assert.Equal("/api/orders", root.Attributes["url.path"]);

        foreach (var send in trace.Where(s => s.Name.StartsWith("send ", StringComparison.Ordinal) && s.Name != "send mail"))
        {
            Assert.Equal(SpanKind.Producer, send.Kind);
            Assert.Equal("kafka", send.Attributes["messaging.system"]);
            Assert.Equal(send.Name["send ".Length..], send.Attributes["messaging.destination.name"]);
            // Stock levels are keyed by product (a compacted topic); everything else by order.
            var key = send.Attributes["messaging.destination.name"] as string == "stock-levels" ? "125" : orderId;
            Assert.Equal(key, send.Attributes["messaging.kafka.message.key"]);
            Assert.True(send.Attributes.ContainsKey("messaging.kafka.offset"), $"{send.Name} has no offset");
            Assert.True(send.Attributes.ContainsKey("messaging.message.id"), $"{send.Name} has no message id");
            // The broker's span of that produce is its child.
            Assert.Contains(trace, s => s.Service == "broker" && s.Name == $"broker produce {send.Attributes["messaging.destination.name"]}"
                && s.ParentSpanId == send.SpanId && s.Kind == SpanKind.Server);
        }

        var processes = trace.Where(s => s.Name.StartsWith("process ", StringComparison.Ordinal)).ToList();
        foreach (var process in processes)
        {
            Assert.Equal(SpanKind.Consumer, process.Kind);
            var send = Parent(process);
            Assert.Equal(SpanKind.Producer, send.Kind);
            Assert.Equal(send.Attributes["messaging.destination.name"], process.Attributes["messaging.destination.name"]);
            Assert.Equal(send.Attributes["messaging.kafka.offset"], process.Attributes["messaging.kafka.offset"]);
            Assert.Equal(send.Attributes["messaging.message.id"], process.Attributes["messaging.message.id"]);
            Assert.True(process.Attributes.ContainsKey("messaging.consumer.group.name"), $"{process.Name} has no consumer group");
            Assert.True(process.Attributes.ContainsKey("messaging.destination.partition.id"), $"{process.Name} has no partition");
        }

        // The saga's hops, each in the service that makes it.
        string[] groups = [.. processes.Select(p => $"{p.Service}/{p.Attributes["messaging.consumer.group.name"]}/{p.Attributes["messaging.destination.name"]}").Distinct()];
        Assert.Contains("orders/orders/orders", groups);
        Assert.Contains("inventory/inventory/reservations", groups);
        Assert.Contains("notifications/notifications/orders", groups);
        Assert.Contains("webshop/webshop/notifications", groups);

        // The e-mail is sent within the trace, by Notifications, under the event that asked for it.
        var mail = Assert.Single(trace, s => s.Name == "send mail");
        Assert.Equal(("notifications", SpanKind.Client), (mail.Service, mail.Kind));
        Assert.Equal("process orders", Parent(mail).Name);
    }
}
