using System.Diagnostics;
using System.Text;
using Shop.Broker.Protocol;
using Shop.Broker.Telemetry;

namespace Shop.Broker.Tests.Telemetry;

public sealed class RecordTraceContextsTests
{
    [Fact]
    public void The_first_bytes_of_a_large_fetched_batch_are_enough_to_find_its_trace_context()
    {
        // A fetch's span looks only at the first 64 KiB of its records: here one batch of 200 KiB.
        var context = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var traceparent = $"00-{context.TraceId}-{context.SpanId}-01";
        var records = Enumerable.Range(0, 200).Select(i => new KeyValueRecord(null, new byte[1024],
            i == 0 ? [new RecordHeader("traceparent", Encoding.ASCII.GetBytes(traceparent))] : null)).ToList();
        var batch = RecordBatchBuilder.Build(records, timestamp: 0);

        var found = RecordTraceContexts.Find(batch.AsSpan(0, 64 * 1024));

        Assert.Equal([context.SpanId], found.Select(c => c.SpanId));
        Assert.Equal(context.TraceId, found[0].TraceId);
    }
}
