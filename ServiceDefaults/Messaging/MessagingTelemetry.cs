using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// Spans for messaging, after the OpenTelemetry messaging conventions: <c>send &lt;topic&gt;</c>
/// (Producer) and <c>process &lt;topic&gt;</c> (Consumer), the W3C context carried in the
/// <c>traceparent</c>/<c>tracestate</c> headers.
/// </summary>
public static class MessagingTelemetry
{
    public const string SourceName = "Shop.Messaging";

    public static readonly ActivitySource Source = new(SourceName);

    public static Activity? StartSend(string topic, string key, string messageId, string? parentTraceParent, string? parentTraceState)
    {
        ActivityContext.TryParse(parentTraceParent, parentTraceState, out var parent);
        var activity = Source.StartActivity($"send {topic}", ActivityKind.Producer, parent);
        activity?.SetTag("messaging.system", "kafka");
        activity?.SetTag("messaging.operation.type", "send");
        activity?.SetTag("messaging.destination.name", topic);
        activity?.SetTag("messaging.kafka.message.key", key);
        activity?.SetTag("messaging.message.id", messageId);
        return activity;
    }

    public static Activity? StartProcess(ConsumeResult<string, byte[]> result, string group)
    {
        var headers = result.Message.Headers;
        var propagated = Propagators.DefaultTextMapPropagator.Extract(default, headers, (h, name) => Header(h, name) is { } value ? [value] : []);
        Baggage.Current = propagated.Baggage;
        var activity = Source.StartActivity($"process {result.Topic}", ActivityKind.Consumer, propagated.ActivityContext);
        activity?.SetTag("messaging.system", "kafka");
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.destination.name", result.Topic);
        activity?.SetTag("messaging.destination.partition.id", result.Partition.Value.ToString());
        activity?.SetTag("messaging.kafka.offset", result.Offset.Value);
        activity?.SetTag("messaging.kafka.message.key", result.Message.Key);
        activity?.SetTag("messaging.consumer.group.name", group);
        activity?.SetTag("messaging.message.id", Header(headers, MessageHeaders.MessageId));
        return activity;
    }

    /// <summary>
    /// The context of the send span (W3C <c>traceparent</c>/<c>tracestate</c>) and the current
    /// baggage as headers, through OpenTelemetry's propagator, so the consumer's span continues the trace.
    /// </summary>
    public static void Inject(Headers headers, Activity? activity)
    {
        if (activity is null) return;
        Propagators.DefaultTextMapPropagator.Inject(new PropagationContext(activity.Context, Baggage.Current), headers,
            (h, name, value) => h.Add(name, Encoding.UTF8.GetBytes(value)));
    }

    public static string? Header(Headers? headers, string name) =>
        headers is not null && headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
}
