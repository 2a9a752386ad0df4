using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Shop.Broker.Protocol;

/// <summary>A record header: a UTF-8 key and a value that may be null.</summary>
public readonly record struct RecordHeader(string Key, byte[]? Value);

/// <summary>A key and value of one record; null value = tombstone. Headers are optional.</summary>
public readonly record struct KeyValueRecord(byte[]? Key, byte[]? Value, IReadOnlyList<RecordHeader>? Headers = null);

/// <summary>One record as stored: its offset and timestamp, key, value and headers.</summary>
public sealed record LogRecord(long Offset, long Timestamp, byte[]? Key, byte[]? Value, IReadOnlyList<RecordHeader> Headers);

/// <summary>
/// Writes uncompressed record batches v2 for what the broker itself appends (committed offsets, a
/// message produced from the console) and reads the records of any stored batch back. Client
/// batches are never rebuilt: they are stored as received.
/// </summary>
public static class RecordBatchBuilder
{
    /// <param name="producer">Idempotent producer fields (id, epoch, first sequence); none by default.</param>
    public static byte[] Build(IReadOnlyList<KeyValueRecord> records, long timestamp, (long Id, short Epoch, int BaseSequence)? producer = null)
    {
        var body = new List<byte>(64 * records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var record = new List<byte>(32) { 0 }; // attributes
            Varint.Write(record, 0); // timestamp delta
            Varint.Write(record, i); // offset delta
            WriteBytes(record, records[i].Key);
            WriteBytes(record, records[i].Value);
            var headers = records[i].Headers ?? [];
            Varint.Write(record, headers.Count);
            foreach (var header in headers)
            {
                WriteBytes(record, Encoding.UTF8.GetBytes(header.Key));
                WriteBytes(record, header.Value);
            }
            Varint.Write(body, record.Count);
            body.AddRange(record);
        }
        var batch = new byte[RecordBatch.HeaderSize + body.Count];
        var span = batch.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span[8..], batch.Length - RecordBatch.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(span[12..], -1); // partition leader epoch
        span[16] = 2; // magic
        BinaryPrimitives.WriteInt32BigEndian(span[23..], records.Count - 1);
        BinaryPrimitives.WriteInt64BigEndian(span[27..], timestamp);
        BinaryPrimitives.WriteInt64BigEndian(span[35..], timestamp);
        BinaryPrimitives.WriteInt64BigEndian(span[43..], producer?.Id ?? -1);
        BinaryPrimitives.WriteInt16BigEndian(span[51..], producer?.Epoch ?? -1);
        BinaryPrimitives.WriteInt32BigEndian(span[53..], producer?.BaseSequence ?? -1);
        BinaryPrimitives.WriteInt32BigEndian(span[57..], records.Count);
        body.CopyTo(batch, RecordBatch.HeaderSize);
        BinaryPrimitives.WriteUInt32BigEndian(span[17..], Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, span[21..]));
        return batch;
    }

    /// <summary>Every record of the uncompressed batches in <paramref name="batches"/>, in offset order (the internal topics' reader).</summary>
    public static IEnumerable<(long Offset, KeyValueRecord Record)> ReadRecords(ReadOnlyMemory<byte> batches)
    {
        var position = 0;
        while (position + RecordBatch.HeaderSize <= batches.Length)
        {
            var header = RecordBatch.ReadHeader(batches.Span[position..]);
            if (header.Codec != 0) throw new InvalidDataException("internal batches are never compressed");
            foreach (var record in Decode(batches.Span.Slice(position, header.TotalSize), header, batches.Span[(position + RecordBatch.HeaderSize)..(position + header.TotalSize)]))
                yield return (record.Offset, new KeyValueRecord(record.Key, record.Value, record.Headers));
            position += header.TotalSize;
        }
    }

    /// <summary>
    /// Every data record of the stored batches in <paramref name="batches"/> (decompressed as needed;
    /// control batches skipped), in offset order. A batch whose records do not parse throws
    /// <see cref="InvalidDataException"/>, naming its offset.
    /// </summary>
    public static List<LogRecord> ReadLogRecords(ReadOnlySpan<byte> batches)
    {
        var records = new List<LogRecord>();
        var position = 0;
        while (position + RecordBatch.HeaderSize <= batches.Length)
        {
            var header = RecordBatch.ReadHeader(batches[position..]);
            if (header.TotalSize > batches.Length - position) break;
            var batch = batches.Slice(position, header.TotalSize);
            if (!header.IsControl) records.AddRange(Decode(batch, header, RecordBatch.RecordsPayload(batch)));
            position += header.TotalSize;
        }
        return records;
    }

    private static List<LogRecord> Decode(ReadOnlySpan<byte> batch, RecordBatchHeader header, ReadOnlySpan<byte> payload)
    {
        var records = new List<LogRecord>(header.RecordCount);
        foreach (var slice in RecordBatch.Records(batch, payload))
        {
            try
            {
                records.Add(ReadRecord(payload[slice.Start..slice.End], header));
            }
            catch (Exception ex) when (ex is ArgumentOutOfRangeException or IndexOutOfRangeException)
            {
                throw new InvalidDataException($"record {header.BaseOffset + slice.OffsetDelta} does not parse: {ex.Message}", ex);
            }
        }
        return records;
    }

    private static LogRecord ReadRecord(ReadOnlySpan<byte> data, RecordBatchHeader batch)
    {
        var position = 0;
        Varint.Read(data, ref position); // length, already checked by RecordBatch.Records
        position++; // attributes
        var timestampDelta = Varint.Read(data, ref position);
        var offsetDelta = (int)Varint.Read(data, ref position);
        var key = ReadBytes(data, ref position);
        var value = ReadBytes(data, ref position);
        var count = (int)Varint.Read(data, ref position);
        if (count < 0 || count > data.Length) throw new InvalidDataException($"record claims {count} headers");
        var headers = new List<RecordHeader>(count);
        for (var i = 0; i < count; i++)
        {
            var headerKey = ReadBytes(data, ref position) ?? throw new InvalidDataException("a header key is null");
            headers.Add(new RecordHeader(Encoding.UTF8.GetString(headerKey), ReadBytes(data, ref position)));
        }
        // With LogAppendTime (attribute bit 3) the batch's max timestamp is every record's timestamp.
        var timestamp = (batch.Attributes & 0x8) != 0 ? batch.MaxTimestamp : batch.BaseTimestamp + timestampDelta;
        return new LogRecord(batch.BaseOffset + offsetDelta, timestamp, key, value, headers);
    }

    private static byte[]? ReadBytes(ReadOnlySpan<byte> data, ref int position)
    {
        var length = (int)Varint.Read(data, ref position);
        if (length < 0) return null;
        var bytes = data.Slice(position, length).ToArray();
        position += length;
        return bytes;
    }

    private static void WriteBytes(List<byte> target, byte[]? bytes)
    {
        if (bytes is null) { Varint.Write(target, -1); return; }
        Varint.Write(target, bytes.Length);
        target.AddRange(bytes);
    }
}
