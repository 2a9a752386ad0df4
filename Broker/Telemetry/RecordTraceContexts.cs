using System.Diagnostics;
using System.Text;
using Shop.Broker.Protocol;

namespace Shop.Broker.Telemetry;

/// <summary>
/// The W3C trace contexts (<c>traceparent</c>/<c>tracestate</c> headers) that producers put on the
/// records of a record set. Only uncompressed batches are looked into: the broker never inflates a
/// batch for telemetry, and only the first <see cref="MaxRecordsScanned"/> records of a set: a span
/// links at most a few contexts, and a fetch of megabytes must not be parsed whole for it. Reads
/// defensively: a record set that does not parse yields what was found so far, and a set cut short
/// (the first bytes of a fetch) is looked into as far as it goes.
/// </summary>
public static class RecordTraceContexts
{
    private static readonly byte[] TraceParent = "traceparent"u8.ToArray();
    private static readonly byte[] TraceState = "tracestate"u8.ToArray();

    /// <summary>Records looked into per record set, at most.</summary>
    public const int MaxRecordsScanned = 256;

    /// <summary>Up to <paramref name="max"/> distinct contexts, in record order.</summary>
    public static List<ActivityContext> Find(ReadOnlySpan<byte> recordSet, int max = 16)
    {
        var contexts = new List<ActivityContext>();
        var budget = MaxRecordsScanned;
        try
        {
            while (recordSet.Length >= RecordBatch.HeaderSize && contexts.Count < max && budget > 0)
            {
                var header = RecordBatch.ReadHeader(recordSet);
                if (header.TotalSize < RecordBatch.HeaderSize) break;
                var records = Math.Min(header.RecordCount, budget);
                budget -= records;
                // A batch cut short is read up to its cut (reading past it throws, caught below).
                if (header.Codec == 0 && !header.IsControl) FindInBatch(recordSet[..Math.Min(header.TotalSize, recordSet.Length)], records, contexts, max);
                if (header.TotalSize >= recordSet.Length) break;
                recordSet = recordSet[header.TotalSize..];
            }
        }
        catch (ArgumentOutOfRangeException)
        {
        }
        catch (IndexOutOfRangeException)
        {
        }
        return contexts;
    }

    private static void FindInBatch(ReadOnlySpan<byte> batch, int recordCount, List<ActivityContext> contexts, int max)
    {
        var position = RecordBatch.HeaderSize;
        for (var i = 0; i < recordCount && contexts.Count < max; i++)
        {
            var length = (int)Varint.Read(batch, ref position);
            var end = position + length;
            position++; // attributes
            Varint.Read(batch, ref position); // timestamp delta
            Varint.Read(batch, ref position); // offset delta
            Skip(batch, ref position); // key
            Skip(batch, ref position); // value
            var headerCount = (int)Varint.Read(batch, ref position);
            string? parent = null, state = null;
            for (var h = 0; h < headerCount; h++)
            {
                var nameLength = (int)Varint.Read(batch, ref position);
                var name = batch.Slice(position, nameLength);
                position += nameLength;
                var valueLength = (int)Varint.Read(batch, ref position);
                var value = valueLength < 0 ? [] : batch.Slice(position, valueLength);
                if (valueLength > 0) position += valueLength;
                if (name.SequenceEqual(TraceParent)) parent = Encoding.ASCII.GetString(value);
                else if (name.SequenceEqual(TraceState)) state = Encoding.ASCII.GetString(value);
            }
            if (parent is not null && ActivityContext.TryParse(parent, state, isRemote: true, out var context) && !Contains(contexts, context.SpanId))
            {
                contexts.Add(context);
            }
            position = end;
        }
    }

    /// <summary>A loop, not List.Exists: a lambda capturing the context was a closure allocated per record.</summary>
    private static bool Contains(List<ActivityContext> contexts, ActivitySpanId spanId)
    {
        foreach (var c in contexts)
        {
            if (c.SpanId == spanId) return true;
        }
        return false;
    }

    private static void Skip(ReadOnlySpan<byte> batch, ref int position)
    {
        var length = (int)Varint.Read(batch, ref position);
        if (length > 0) position += length;
    }
}
