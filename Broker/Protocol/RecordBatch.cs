using System.Buffers.Binary;
using System.IO.Hashing;
using Shop.Broker.Storage;

namespace Shop.Broker.Protocol;

/// <summary>
/// The fixed header of a record batch (magic 2), read without decompressing anything: offsets,
/// counts, timestamps and producer fields all live here.
/// </summary>
public readonly record struct RecordBatchHeader(
    long BaseOffset, int BatchLength, short Attributes, int LastOffsetDelta,
    long BaseTimestamp, long MaxTimestamp, long ProducerId, short ProducerEpoch, int BaseSequence, int RecordCount)
{
    /// <summary>Bytes of the whole batch on disk: the offset and length fields plus BatchLength.</summary>
    public int TotalSize => RecordBatch.LogOverhead + BatchLength;

    public long LastOffset => BaseOffset + LastOffsetDelta;

    public int Codec => Attributes & 0x7;

    public bool IsControl => (Attributes & 0x20) != 0;

    public bool IsTransactional => (Attributes & 0x10) != 0;
}

/// <summary>Record batch v2 layout, validation and the base-offset rewrite.</summary>
public static class RecordBatch
{
    /// <summary>baseOffset (8) + batchLength (4): the part outside BatchLength.</summary>
    public const int LogOverhead = 12;

    /// <summary>Everything up to and including recordsCount.</summary>
    public const int HeaderSize = 61;

    private const int MagicOffset = 16;
    private const int CrcOffset = 17;
    private const int AttributesOffset = 21;

    /// <summary>Reads the header of the batch at the start of <paramref name="data"/>; no checks beyond length.</summary>
    public static RecordBatchHeader ReadHeader(ReadOnlySpan<byte> data) => new(
        BaseOffset: BinaryPrimitives.ReadInt64BigEndian(data),
        BatchLength: BinaryPrimitives.ReadInt32BigEndian(data[8..]),
        Attributes: BinaryPrimitives.ReadInt16BigEndian(data[21..]),
        LastOffsetDelta: BinaryPrimitives.ReadInt32BigEndian(data[23..]),
        BaseTimestamp: BinaryPrimitives.ReadInt64BigEndian(data[27..]),
        MaxTimestamp: BinaryPrimitives.ReadInt64BigEndian(data[35..]),
        ProducerId: BinaryPrimitives.ReadInt64BigEndian(data[43..]),
        ProducerEpoch: BinaryPrimitives.ReadInt16BigEndian(data[51..]),
        BaseSequence: BinaryPrimitives.ReadInt32BigEndian(data[53..]),
        RecordCount: BinaryPrimitives.ReadInt32BigEndian(data[57..]));

    /// <summary>
    /// Checks the batch at the start of <paramref name="data"/> as the broker must (clients do not
    /// check CRCs by default): whole, magic 2, CRC-32C from attributes to the end, record count
    /// matching lastOffsetDelta. Returns null and the header when valid, otherwise the reason.
    /// </summary>
    public static string? Check(ReadOnlySpan<byte> data, out RecordBatchHeader header, bool allowCompacted = false)
    {
        header = default;
        if (data.Length < HeaderSize) return $"batch truncated: {data.Length} bytes, a header needs {HeaderSize}";
        var batchLength = BinaryPrimitives.ReadInt32BigEndian(data[8..]);
        if (batchLength < HeaderSize - LogOverhead) return $"batch length {batchLength} is smaller than a header";
        if (batchLength > data.Length - LogOverhead) return $"batch length {batchLength} runs past the {data.Length - LogOverhead} bytes received";
        if (data[MagicOffset] != 2) return $"magic {data[MagicOffset]} is not supported (only record batch v2)";
        var whole = data[..(LogOverhead + batchLength)];
        var expected = BinaryPrimitives.ReadUInt32BigEndian(whole[CrcOffset..]);
        var actual = Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, whole[AttributesOffset..]);
        if (expected != actual) return $"CRC mismatch: batch says {expected:x8}, content is {actual:x8}";
        header = ReadHeader(whole);
        // Compaction keeps a batch's offset range but drops records from it; producers send whole ones.
        if (header.LastOffsetDelta < 0 || header.RecordCount > header.LastOffsetDelta + 1 || (!allowCompacted && header.RecordCount != header.LastOffsetDelta + 1))
            return $"record count {header.RecordCount} does not match last offset delta {header.LastOffsetDelta}";
        return null;
    }

    /// <summary>
    /// Checks every batch of a record set from a producer; throws <see cref="CorruptRecordException"/>
    /// naming the first bad one. Control batches and unknown codecs are refused too.
    /// </summary>
    public static List<RecordBatchHeader> ValidateRecordSet(ReadOnlySpan<byte> recordSet)
    {
        var headers = new List<RecordBatchHeader>(1);
        if (recordSet.IsEmpty) throw new CorruptRecordException("empty record set");
        var position = 0;
        while (position < recordSet.Length)
        {
            var error = Check(recordSet[position..], out var header);
            if (error is not null) throw new CorruptRecordException($"batch {headers.Count} at byte {position}: {error}");
            if (header.IsControl) throw new CorruptRecordException($"batch {headers.Count}: control batches may not be produced by clients");
            if (header.Codec > 4) throw new CorruptRecordException($"batch {headers.Count}: unknown compression codec {header.Codec}");
            headers.Add(header);
            position += header.TotalSize;
        }
        return headers;
    }

    /// <summary>One record's place in a batch's records (decompressed), its timestamp delta and its key (null for a null key).</summary>
    public readonly record struct RecordSlice(int Start, int End, int OffsetDelta, long TimestampDelta, byte[]? Key);

    /// <summary>The records of a batch, decompressed when compressed: the bytes the slices of <see cref="Records(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> point into.</summary>
    public static byte[] RecordsPayload(ReadOnlySpan<byte> batch)
    {
        var header = ReadHeader(batch);
        return RecordCodecs.Decompress(header.Codec, batch[HeaderSize..header.TotalSize]);
    }

    /// <summary>
    /// The records in <paramref name="payload"/> (from <see cref="RecordsPayload"/>), with their byte
    /// ranges. A batch's CRC only says it arrived as sent: a client can send records that do not
    /// parse, and those are refused here with <see cref="InvalidDataException"/>.
    /// </summary>
    public static List<RecordSlice> Records(ReadOnlySpan<byte> batch, ReadOnlySpan<byte> payload)
    {
        var header = ReadHeader(batch);
        var records = new List<RecordSlice>(Math.Clamp(header.RecordCount, 0, payload.Length));
        var position = 0;
        try
        {
            for (var i = 0; i < header.RecordCount; i++)
            {
                var start = position;
                var length = Varint.Read(payload, ref position);
                if (length < 0 || length > payload.Length - position) throw new InvalidDataException($"record {i} claims {length} bytes, more than the batch holds");
                var end = position + (int)length;
                position++; // attributes
                var timestampDelta = Varint.Read(payload, ref position);
                var offsetDelta = (int)Varint.Read(payload, ref position);
                var keyLength = Varint.Read(payload, ref position);
                if (keyLength > end - position) throw new InvalidDataException($"record {i}'s key overruns the record");
                var key = keyLength < 0 ? null : payload.Slice(position, (int)keyLength).ToArray();
                records.Add(new RecordSlice(start, end, offsetDelta, timestampDelta, key));
                position = end;
            }
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"the records of the batch at offset {header.BaseOffset} do not parse: {ex.Message}", ex);
        }
        return records;
    }

    /// <summary>
    /// A batch with only the given records: the same base offset, offset range, timestamps,
    /// producer fields and codec (recompressed with it), a new record count, length and CRC. What
    /// compaction writes.
    /// </summary>
    public static byte[] WithRecords(ReadOnlySpan<byte> batch, ReadOnlySpan<byte> payload, IReadOnlyList<RecordSlice> kept)
    {
        var records = new byte[kept.Sum(r => r.End - r.Start)];
        var position = 0;
        foreach (var record in kept)
        {
            payload[record.Start..record.End].CopyTo(records.AsSpan(position));
            position += record.End - record.Start;
        }
        var body = RecordCodecs.Compress(ReadHeader(batch).Codec, records);
        var result = new byte[HeaderSize + body.Length];
        batch[..HeaderSize].CopyTo(result);
        body.CopyTo(result, HeaderSize);
        BinaryPrimitives.WriteInt32BigEndian(result.AsSpan(8), result.Length - LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(result.AsSpan(57), kept.Count);
        BinaryPrimitives.WriteUInt32BigEndian(result.AsSpan(CrcOffset), Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, result.AsSpan(AttributesOffset)));
        return result;
    }

    /// <summary>
    /// The offset and timestamp of the first record whose timestamp is ≥ <paramref name="timestamp"/>
    /// in a batch whose max timestamp is (decompressing it if need be).
    /// </summary>
    public static (long Offset, long Timestamp) FirstRecordAtOrAfter(ReadOnlySpan<byte> batch, long timestamp)
    {
        var header = ReadHeader(batch);
        List<RecordSlice> records;
        try
        {
            records = Records(batch, RecordsPayload(batch));
        }
        catch (InvalidDataException)
        {
            return (header.BaseOffset, header.MaxTimestamp); // records that do not parse: the batch is the best answer
        }
        foreach (var record in records)
        {
            var recordTimestamp = header.BaseTimestamp + record.TimestampDelta;
            if (recordTimestamp >= timestamp) return (header.BaseOffset + record.OffsetDelta, recordTimestamp);
        }
        return (header.BaseOffset, header.MaxTimestamp);
    }

    /// <summary>
    /// The offset after the last batch in <paramref name="batches"/>: where the next read starts.
    /// Not the last record's offset + 1: compaction can drop a batch's last records and keep its range.
    /// </summary>
    public static long NextOffsetAfter(ReadOnlySpan<byte> batches)
    {
        var next = -1L;
        for (var position = 0; position + HeaderSize <= batches.Length;)
        {
            var header = ReadHeader(batches[position..]);
            next = header.LastOffset + 1;
            position += header.TotalSize;
        }
        return next;
    }

    /// <summary>
    /// Stamps what the leader decides on append: the base offset and the partition leader epoch
    /// (clients send 0 or -1). Both lie outside the CRC, so the batch stays valid.
    /// </summary>
    public static void AssignOffsetAndEpoch(Span<byte> batch, long baseOffset, int leaderEpoch)
    {
        BinaryPrimitives.WriteInt64BigEndian(batch, baseOffset);
        BinaryPrimitives.WriteInt32BigEndian(batch[12..], leaderEpoch);
    }
}

/// <summary>Zigzag varints, as records use them.</summary>
public static class Varint
{
    public static long Read(ReadOnlySpan<byte> data, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = data[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return (long)(value >> 1) ^ -(long)(value & 1);
        }
        throw new InvalidDataException("varint longer than 10 bytes");
    }

    public static void Write(List<byte> target, long value)
    {
        var v = (ulong)((value << 1) ^ (value >> 63));
        while (v >= 0x80)
        {
            target.Add((byte)(v | 0x80));
            v >>= 7;
        }
        target.Add((byte)v);
    }
}
