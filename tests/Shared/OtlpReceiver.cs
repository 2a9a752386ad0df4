using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Shop.Testing;

public enum SpanKind { Unspecified = 0, Internal = 1, Server = 2, Client = 3, Producer = 4, Consumer = 5 }

/// <summary>One received span, with the service.name of the process that sent it.</summary>
public sealed record ReceivedSpan(string Service, string TraceId, string SpanId, string? ParentSpanId, string Name, SpanKind Kind,
    IReadOnlyDictionary<string, object?> Attributes, IReadOnlyList<(string TraceId, string SpanId)> Links);

/// <summary>One number data point of a gauge or sum, with its attributes.</summary>
public sealed record ReceivedPoint(string Service, string Metric, double Value, IReadOnlyDictionary<string, object?> Attributes, ulong TimeUnixNano);

/// <summary>
/// An OTLP/HTTP (protobuf) receiver on a loopback port: what the Aspire dashboard would get,
/// decoded at the wire level (Google.Protobuf's CodedInputStream) for the fields tests look at.
/// Point a process at it with OTEL_EXPORTER_OTLP_ENDPOINT=<see cref="Endpoint"/> and
/// OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly ConcurrentQueue<ReceivedPoint> _points = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    public string Endpoint { get; private set; } = "";

    public IReadOnlyCollection<ReceivedSpan> Spans => _spans;

    public IReadOnlyCollection<ReceivedPoint> Points => _points;

    /// <summary>The environment a process needs to export here, fast (short batch and export intervals).</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        ["OTEL_TRACES_SAMPLER"] = "always_on",
    };

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpRequest request) => { receiver.ReadTraces(await BodyAsync(request)); return Results.Bytes([], "application/x-protobuf"); });
        app.MapPost("/v1/metrics", async (HttpRequest request) => { receiver.ReadMetrics(await BodyAsync(request)); return Results.Bytes([], "application/x-protobuf"); });
        app.MapPost("/v1/logs", () => Results.Bytes([], "application/x-protobuf"));
        await app.StartAsync();
        receiver.Endpoint = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return receiver;
    }

    private static async Task<byte[]> BodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    // ExportTraceServiceRequest { 1: ResourceSpans { 1: Resource { 1: KeyValue }, 2: ScopeSpans { 2: Span } } }
    private void ReadTraces(byte[] body)
    {
        foreach (var resourceSpans in Fields(body).Where(f => f.Number == 1))
        {
            var fields = Fields(resourceSpans.Bytes).ToList();
            var service = ServiceName(fields);
            foreach (var scope in fields.Where(f => f.Number == 2))
            {
                foreach (var span in Fields(scope.Bytes).Where(f => f.Number == 2)) _spans.Enqueue(ReadSpan(service, span.Bytes));
            }
        }
    }

    // Span { 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 9 attributes, 13 links { 1 trace_id, 2 span_id } }
    private static ReceivedSpan ReadSpan(string service, ByteString bytes)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null;
        var kind = SpanKind.Unspecified;
        var attributes = new Dictionary<string, object?>();
        var links = new List<(string, string)>();
        foreach (var field in Fields(bytes))
        {
            switch (field.Number)
            {
                case 1: traceId = Hex(field.Bytes); break;
                case 2: spanId = Hex(field.Bytes); break;
                case 4: parent = field.Bytes.IsEmpty ? null : Hex(field.Bytes); break;
                case 5: name = field.Bytes.ToStringUtf8(); break;
                case 6: kind = (SpanKind)field.Varint; break;
                case 9: AddAttribute(attributes, field.Bytes); break;
                case 13:
                    var link = Fields(field.Bytes).ToList();
                    links.Add((Hex(link.First(f => f.Number == 1).Bytes), Hex(link.First(f => f.Number == 2).Bytes)));
                    break;
            }
        }
        return new ReceivedSpan(service, traceId, spanId, parent, name, kind, attributes, links);
    }

    // ExportMetricsServiceRequest { 1: ResourceMetrics { 1: Resource, 2: ScopeMetrics { 2: Metric { 1 name, 5 gauge, 7 sum { 1: NumberDataPoint } } } } }
    private void ReadMetrics(byte[] body)
    {
        foreach (var resourceMetrics in Fields(body).Where(f => f.Number == 1))
        {
            var fields = Fields(resourceMetrics.Bytes).ToList();
            var service = ServiceName(fields);
            foreach (var scope in fields.Where(f => f.Number == 2))
            {
                foreach (var metric in Fields(scope.Bytes).Where(f => f.Number == 2))
                {
                    var metricFields = Fields(metric.Bytes).ToList();
                    var name = metricFields.FirstOrDefault(f => f.Number == 1)?.Bytes.ToStringUtf8() ?? "";
                    foreach (var data in metricFields.Where(f => f.Number is 5 or 7))
                    {
                        foreach (var point in Fields(data.Bytes).Where(f => f.Number == 1)) _points.Enqueue(ReadPoint(service, name, point.Bytes));
                    }
                }
            }
        }
    }

    // NumberDataPoint { 3 time_unix_nano (fixed64), 4 as_double (double), 6 as_int (sfixed64), 7 attributes }
    private static ReceivedPoint ReadPoint(string service, string metric, ByteString bytes)
    {
        double value = 0;
        ulong time = 0;
        var attributes = new Dictionary<string, object?>();
        foreach (var field in Fields(bytes))
        {
            switch (field.Number)
            {
                case 3: time = field.Fixed64; break;
                case 4: value = BitConverter.UInt64BitsToDouble(field.Fixed64); break;
                case 6: value = (long)field.Fixed64; break;
                case 7: AddAttribute(attributes, field.Bytes); break;
            }
        }
        return new ReceivedPoint(service, metric, value, attributes, time);
    }

    private static string ServiceName(List<Field> resourceFields)
    {
        var attributes = new Dictionary<string, object?>();
        foreach (var resource in resourceFields.Where(f => f.Number == 1))
        {
            foreach (var kv in Fields(resource.Bytes).Where(f => f.Number == 1)) AddAttribute(attributes, kv.Bytes);
        }
        return attributes.TryGetValue("service.name", out var name) ? name?.ToString() ?? "" : "";
    }

    // KeyValue { 1 key, 2 AnyValue { 1 string, 2 bool, 3 int, 4 double } }
    private static void AddAttribute(Dictionary<string, object?> attributes, ByteString keyValue)
    {
        string? key = null;
        object? value = null;
        foreach (var field in Fields(keyValue))
        {
            if (field.Number == 1) key = field.Bytes.ToStringUtf8();
            else if (field.Number == 2)
            {
                foreach (var any in Fields(field.Bytes))
                {
                    value = any.Number switch
                    {
                        1 => any.Bytes.ToStringUtf8(),
                        2 => any.Varint != 0,
                        3 => (long)any.Varint,
                        4 => BitConverter.UInt64BitsToDouble(any.Fixed64),
                        _ => value,
                    };
                }
            }
        }
        if (key is not null) attributes[key] = value;
    }

    private static string Hex(ByteString bytes) => Convert.ToHexStringLower(bytes.Span);

    private sealed record Field(int Number, ulong Varint, ulong Fixed64, ByteString Bytes);

    /// <summary>The top-level fields of one protobuf message.</summary>
    private static IEnumerable<Field> Fields(ByteString message) => Fields(message.ToByteArray());

    private static IEnumerable<Field> Fields(byte[] message)
    {
        var input = new CodedInputStream(message);
        var fields = new List<Field>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.Varint: fields.Add(new Field(number, input.ReadUInt64(), 0, ByteString.Empty)); break;
                case WireFormat.WireType.Fixed64: fields.Add(new Field(number, 0, input.ReadFixed64(), ByteString.Empty)); break;
                case WireFormat.WireType.Fixed32: fields.Add(new Field(number, 0, input.ReadFixed32(), ByteString.Empty)); break;
                case WireFormat.WireType.LengthDelimited: fields.Add(new Field(number, 0, 0, input.ReadBytes())); break;
                default: input.SkipLastField(); break;
            }
        }
        return fields;
    }
}
