using System.Buffers.Binary;
using System.IO.Hashing;

namespace Shop.Broker.Protocol;

/// <summary>A key and value of one record; null value = tombstone.</summary>
public readonly record struct KeyValueRecord(byte[]? Key, byte[]? Value);

/// <summary>
/// Writes and reads uncompressed record batches v2, for the broker's own internal topics
/// (committed offsets). Client batches are never rebuilt: they are stored as received.
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
            Varint.Write(record, 0); // headers
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

    /// <summary>Every record of the uncompressed batches in <paramref name="batches"/>, in offset order.</summary>
    public static IEnumerable<(long Offset, KeyValueRecord Record)> ReadRecords(ReadOnlyMemory<byte> batches)
    {
        var position = 0;
        while (position + RecordBatch.HeaderSize <= batches.Length)
        {
            var header = RecordBatch.ReadHeader(batches.Span[position..]);
            if (header.Codec != 0) throw new InvalidDataException("internal batches are never compressed");
            var reader = position + RecordBatch.HeaderSize;
            for (var i = 0; i < header.RecordCount; i++)
            {
                var (record, offsetDelta, next) = ReadRecord(batches.Span, reader);
                reader = next;
                yield return (header.BaseOffset + offsetDelta, record);
            }
            position += header.TotalSize;
        }
    }

    private static (KeyValueRecord Record, int OffsetDelta, int Next) ReadRecord(ReadOnlySpan<byte> data, int position)
    {
        var length = (int)Varint.Read(data, ref position);
        var end = position + length;
        position++; // attributes
        Varint.Read(data, ref position); // timestamp delta
        var offsetDelta = (int)Varint.Read(data, ref position);
        var key = ReadBytes(data, ref position);
        var value = ReadBytes(data, ref position);
        return (new KeyValueRecord(key, value), offsetDelta, end);
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
