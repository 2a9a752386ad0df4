using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shop.Bench.Systems;

/// <summary>
/// A load generator that speaks Kafka frames itself, so that the client is never the ceiling: record
/// batches are encoded once and sent again and again (the broker rewrites base offsets, and the CRC
/// does not cover them), many Produce requests are in flight on one connection, and fetched batches
/// are counted from their headers without decoding a record. What librdkafka's rdkafka_performance
/// does, in a few hundred lines the bench owns.
/// </summary>
public sealed class WireConnection : IAsyncDisposable
{
    private const short ProduceKey = 0, ProduceVersion = 7, FetchKey = 1, FetchVersion = 11;
    private static readonly byte[] ClientId = "shop-bench-wire"u8.ToArray();

    private readonly Socket _socket;
    private byte[] _receive = new byte[1 << 20];

    private WireConnection(Socket socket) => _socket = socket;

    public static async Task<WireConnection> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveBufferSize = 4 << 20,
            SendBufferSize = 4 << 20,
        };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
        return new WireConnection(socket);
    }

    /// <summary>
    /// Keeps <paramref name="window"/> Produce requests in flight for <paramref name="duration"/> or until
    /// <paramref name="maxBytes"/> were sent, each carrying <paramref name="batchesPerPartition"/> (one batch
    /// per partition), and waits for every answer. Latencies are from a request's send to its answer.
    /// </summary>
    public async Task<ProduceRun> ProduceAsync(string topic, byte[][] batchesPerPartition, short acks, int window, TimeSpan duration,
        CancellationToken cancellationToken, long maxBytes = long.MaxValue)
    {
        var frame = ProduceFrame(topic, batchesPerPartition, acks);
        var bytesPerRequest = batchesPerPartition.Sum(b => (long)b.Length);
        var recordsPerRequest = batchesPerPartition.Sum(b => (long)BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(57)));
        var slots = new SemaphoreSlim(window, window);
        var sentAt = new System.Collections.Concurrent.ConcurrentQueue<(int CorrelationId, long Timestamp)>();
        var latency = new LatencySamples(64 * 1024);
        var stop = false;
        var sent = 0;
        var watch = Stopwatch.StartNew();

        // One count per request sent and one when sending stops: the receiver waits on the socket only
        // for an answer that is due. (Waiting whenever sending had not yet stopped hung the run when
        // every answer was in before the sender noticed its time was up.)
        var due = new SemaphoreSlim(0);
        var receiver = Task.Run(async () =>
        {
            var answered = 0;
            while (true)
            {
                await due.WaitAsync(cancellationToken);
                if (Volatile.Read(ref stop) && answered == Volatile.Read(ref sent)) break;
                var response = await ReceiveFrameAsync(cancellationToken);
                var now = Stopwatch.GetTimestamp();
                if (!sentAt.TryDequeue(out var request)) throw new InvalidDataException("an answer to no request");
                var correlationId = BinaryPrimitives.ReadInt32BigEndian(response.Span);
                if (correlationId != request.CorrelationId)
                    throw new InvalidDataException($"answer {correlationId} came where {request.CorrelationId} was due: responses out of order");
                ThrowOnProduceErrors(response.Span[4..], batchesPerPartition.Length);
                latency.Add(request.Timestamp, now);
                answered++;
                slots.Release();
            }
            return answered;
        }, cancellationToken);

        for (var correlationId = 1; watch.Elapsed < duration && (long)sent * bytesPerRequest < maxBytes; correlationId++)
        {
            await slots.WaitAsync(cancellationToken);
            if (receiver.IsFaulted) break;
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(8), correlationId);
            sentAt.Enqueue((correlationId, Stopwatch.GetTimestamp()));
            await _socket.SendAsync(frame, cancellationToken);
            Interlocked.Increment(ref sent);
            due.Release();
        }
        Volatile.Write(ref stop, true);
        due.Release();
        var requests = await receiver;
        var elapsed = watch.Elapsed;
        return new ProduceRun(requests, requests * bytesPerRequest, requests * recordsPerRequest, elapsed, latency);
    }

    /// <summary>
    /// Reads partition 0 of <paramref name="topic"/> from its start until <paramref name="endOffset"/>,
    /// one Fetch in flight as a consumer has, counting records from the batch headers.
    /// </summary>
    public async Task<ConsumeRun> ConsumeAsync(string topic, long endOffset, int partitionMaxBytes, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        long offset = 0, bytes = 0, records = 0;
        var correlationId = 0;
        while (offset < endOffset)
        {
            await _socket.SendAsync(FetchFrame(++correlationId, topic, offset, partitionMaxBytes), cancellationToken);
            var response = await ReceiveFrameAsync(cancellationToken);
            var (recordBytes, recordCount, next) = CountFetched(response.Span, offset);
            if (next == offset) throw new InvalidDataException($"a fetch at offset {offset} returned nothing below {endOffset}");
            bytes += recordBytes;
            records += recordCount;
            offset = next;
        }
        return new ConsumeRun(bytes, records, watch.Elapsed);
    }

    /// <summary>
    /// Reads partition 0 of <paramref name="topic"/> from offset 0 with long-poll fetches (one in flight, as
    /// a consumer has), handing each record's 8-byte value and the moment its fetch answer arrived to
    /// <paramref name="onRecord"/>, until <paramref name="expected"/> records have come or <paramref name="timeout"/> passes.
    /// </summary>
    public async Task<long> FollowAsync(string topic, long expected, Action<long, long> onRecord, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        long offset = 0, received = 0;
        var correlationId = 0;
        while (received < expected && Stopwatch.GetTimestamp() < deadline)
        {
            await _socket.SendAsync(FetchFrame(++correlationId, topic, offset, 1 << 20), cancellationToken);
            var response = await ReceiveFrameAsync(cancellationToken);
            var now = Stopwatch.GetTimestamp();
            foreach (var batch in new WholeBatches(FetchedRecords(response.Span)))
            {
                foreach (var value in RecordValues(batch))
                {
                    onRecord(value, now);
                    received++;
                }
                offset = WholeBatches.NextOffset(batch);
            }
        }
        return received;
    }

    /// <summary>Sends <paramref name="frame"/> whole, from the caller's thread.</summary>
    internal void Send(ReadOnlySpan<byte> frame)
    {
        while (frame.Length > 0) frame = frame[_socket.Send(frame)..];
    }

    /// <summary>The next Produce answer: throws if any of its <paramref name="partitions"/> failed.</summary>
    internal async Task ReceiveProduceAnswerAsync(int partitions, CancellationToken cancellationToken)
    {
        var response = await ReceiveFrameAsync(cancellationToken);
        ThrowOnProduceErrors(response.Span[4..], partitions);
    }

    /// <summary>A Produce request (acks=1) of one batch holding one record whose value is <paramref name="value"/>, to partition 0.</summary>
    internal static byte[] SingleRecordFrame(string topic, long value, int correlationId)
    {
        var frame = ProduceFrame(topic, [RecordBatch(1, BitConverter.GetBytes(value))], acks: 1);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(8), correlationId);
        return frame;
    }

    /// <summary>The 8-byte values of a v2 batch's uncompressed records, in order.</summary>
    private static List<long> RecordValues(ReadOnlySpan<byte> batch)
    {
        var count = BinaryPrimitives.ReadInt32BigEndian(batch[57..]);
        var values = new List<long>(count);
        var position = 61;
        for (var i = 0; i < count; i++)
        {
            var length = (int)ReadVarint(batch, ref position);
            var next = position + length;
            position++; // attributes
            ReadVarint(batch, ref position); // timestamp delta
            ReadVarint(batch, ref position); // offset delta
            var keyLength = (int)ReadVarint(batch, ref position);
            position += Math.Max(0, keyLength);
            var valueLength = (int)ReadVarint(batch, ref position);
            if (valueLength != 8) throw new InvalidDataException($"a record of {valueLength} bytes where a timestamp of 8 was sent");
            values.Add(BitConverter.ToInt64(batch.Slice(position, 8)));
            position = next;
        }
        return values;
    }

    private static long ReadVarint(ReadOnlySpan<byte> span, ref int position)
    {
        ulong zigzag = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = span[position++];
            zigzag |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) break;
        }
        return (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
    }

    /// <summary>A v2 record batch of <paramref name="count"/> keyless records of <paramref name="valueSize"/> random bytes.</summary>
    public static byte[] RecordBatch(int count, int valueSize)
    {
        var value = new byte[valueSize];
        Random.Shared.NextBytes(value);
        return RecordBatch(count, value);
    }

    /// <summary>A v2 record batch of <paramref name="count"/> keyless records, each with <paramref name="value"/>.</summary>
    private static byte[] RecordBatch(int count, byte[] value)
    {
        var valueSize = value.Length;
        var records = new MemoryStream();
        Span<byte> varint = stackalloc byte[10];
        for (var i = 0; i < count; i++)
        {
            var body = new MemoryStream();
            body.WriteByte(0); // attributes
            body.Write(varint[..WriteVarint(varint, 0)]); // timestamp delta
            body.Write(varint[..WriteVarint(varint, i)]); // offset delta
            body.Write(varint[..WriteVarint(varint, -1)]); // no key
            body.Write(varint[..WriteVarint(varint, valueSize)]);
            body.Write(value);
            body.Write(varint[..WriteVarint(varint, 0)]); // no headers
            records.Write(varint[..WriteVarint(varint, (int)body.Length)]);
            body.WriteTo(records);
        }
        var batch = new byte[61 + records.Length];
        var span = batch.AsSpan();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        BinaryPrimitives.WriteInt64BigEndian(span, 0); // base offset: the broker assigns it
        BinaryPrimitives.WriteInt32BigEndian(span[8..], batch.Length - 12);
        BinaryPrimitives.WriteInt32BigEndian(span[12..], -1); // partition leader epoch
        span[16] = 2; // magic
        BinaryPrimitives.WriteInt16BigEndian(span[21..], 0); // attributes: no compression, CreateTime
        BinaryPrimitives.WriteInt32BigEndian(span[23..], count - 1); // last offset delta
        BinaryPrimitives.WriteInt64BigEndian(span[27..], now);
        BinaryPrimitives.WriteInt64BigEndian(span[35..], now);
        BinaryPrimitives.WriteInt64BigEndian(span[43..], -1); // producer id
        BinaryPrimitives.WriteInt16BigEndian(span[51..], -1); // producer epoch
        BinaryPrimitives.WriteInt32BigEndian(span[53..], -1); // base sequence
        BinaryPrimitives.WriteInt32BigEndian(span[57..], count);
        records.ToArray().CopyTo(span[61..]);
        BinaryPrimitives.WriteUInt32BigEndian(span[17..], Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, span[21..]));
        return batch;
    }

    /// <summary>How many records of <paramref name="valueSize"/> bytes make a batch of about <paramref name="batchBytes"/>.</summary>
    public static int RecordsPerBatch(int batchBytes, int valueSize) => Math.Max(1, (batchBytes - 61) / (valueSize + 8));

    private static int WriteVarint(Span<byte> destination, long value)
    {
        var zigzag = (ulong)((value << 1) ^ (value >> 63));
        var i = 0;
        while (zigzag >= 0x80)
        {
            destination[i++] = (byte)(zigzag | 0x80);
            zigzag >>= 7;
        }
        destination[i++] = (byte)zigzag;
        return i;
    }

    /// <summary>Produce v7: one topic, partitions 0..n-1, each with its batch.</summary>
    private static byte[] ProduceFrame(string topic, byte[][] batchesPerPartition, short acks)
    {
        var body = new MemoryStream();
        var w = new BinaryWriterBigEndian(body);
        w.Int16(-1); // no transactional id
        w.Int16(acks);
        w.Int32(30_000);
        w.Int32(1);
        w.String(topic);
        w.Int32(batchesPerPartition.Length);
        for (var partition = 0; partition < batchesPerPartition.Length; partition++)
        {
            w.Int32(partition);
            w.Int32(batchesPerPartition[partition].Length);
            body.Write(batchesPerPartition[partition]);
        }
        return Frame(ProduceKey, ProduceVersion, 0, body.ToArray());
    }

    /// <summary>Fetch v11 of partition 0 from <paramref name="offset"/>.</summary>
    private static byte[] FetchFrame(int correlationId, string topic, long offset, int partitionMaxBytes)
    {
        var body = new MemoryStream();
        var w = new BinaryWriterBigEndian(body);
        w.Int32(-1); // replica id: a consumer
        w.Int32(500); // max wait
        w.Int32(1); // min bytes
        w.Int32(int.MaxValue); // max bytes
        body.WriteByte(0); // read uncommitted
        w.Int32(0); // no fetch session
        w.Int32(-1);
        w.Int32(1);
        w.String(topic);
        w.Int32(1);
        w.Int32(0); // partition
        w.Int32(-1); // current leader epoch
        w.Int64(offset);
        w.Int64(-1); // log start offset
        w.Int32(partitionMaxBytes);
        w.Int32(0); // forgotten topics
        w.String(""); // rack
        return Frame(FetchKey, FetchVersion, correlationId, body.ToArray());
    }

    private static byte[] Frame(short apiKey, short version, int correlationId, byte[] body) =>
        RequestFrames.Build(apiKey, version, correlationId, ClientId, body);

    /// <summary>Produce v7 response body: [topic: name, [partition, error, base offset, append time, log start]], throttle.</summary>
    private static void ThrowOnProduceErrors(ReadOnlySpan<byte> body, int partitions)
    {
        var topics = BinaryPrimitives.ReadInt32BigEndian(body);
        var position = 4;
        for (var t = 0; t < topics; t++)
        {
            position += 2 + BinaryPrimitives.ReadInt16BigEndian(body[position..]);
            var count = BinaryPrimitives.ReadInt32BigEndian(body[position..]);
            position += 4;
            if (count != partitions) throw new InvalidDataException($"{count} partitions answered, {partitions} sent");
            for (var p = 0; p < count; p++)
            {
                var error = BinaryPrimitives.ReadInt16BigEndian(body[(position + 4)..]);
                if (error != 0) throw new InvalidDataException($"produce to partition {BinaryPrimitives.ReadInt32BigEndian(body[position..])} failed with Kafka error {error}");
                position += 4 + 2 + 8 + 8 + 8;
            }
        }
    }

    /// <summary>Fetch v11 response body of one topic and partition: the records' bytes and count, and the offset after the last whole batch.</summary>
    private static (long Bytes, long Records, long NextOffset) CountFetched(ReadOnlySpan<byte> frame, long offset)
    {
        long bytes = 0, count = 0, next = offset;
        foreach (var batch in new WholeBatches(FetchedRecords(frame)))
        {
            count += BinaryPrimitives.ReadInt32BigEndian(batch[57..]);
            bytes += batch.Length;
            next = WholeBatches.NextOffset(batch);
        }
        return (bytes, count, next);
    }

    /// <summary>The whole v2 record batches of fetched records, in order; a partial batch at the end is left for the next fetch.</summary>
    private ref struct WholeBatches(ReadOnlySpan<byte> records)
    {
        private const int HeaderLength = 61;
        private ReadOnlySpan<byte> _rest = records;

        public ReadOnlySpan<byte> Current { get; private set; }

        public readonly WholeBatches GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_rest.Length < HeaderLength) return false;
            var length = 12 + BinaryPrimitives.ReadInt32BigEndian(_rest[8..]); // base offset and length fields, then the rest
            if (length > _rest.Length) return false;
            Current = _rest[..length];
            _rest = _rest[length..];
            return true;
        }

        /// <summary>The offset after <paramref name="batch"/>'s last record: base offset + last offset delta + 1.</summary>
        public static long NextOffset(ReadOnlySpan<byte> batch) =>
            BinaryPrimitives.ReadInt64BigEndian(batch) + BinaryPrimitives.ReadInt32BigEndian(batch[23..]) + 1;
    }

    /// <summary>The record batches of a Fetch v11 answer about one topic and partition; throws on the answer's or the partition's error.</summary>
    private static ReadOnlySpan<byte> FetchedRecords(ReadOnlySpan<byte> frame)
    {
        var position = 4 + 4; // correlation id, throttle time
        var error = BinaryPrimitives.ReadInt16BigEndian(frame[position..]);
        if (error != 0) throw new InvalidDataException($"fetch failed with Kafka error {error}");
        position += 2 + 4 + 4; // error, session id, topic count
        position += 2 + BinaryPrimitives.ReadInt16BigEndian(frame[position..]);
        position += 4; // partition count
        var partitionError = BinaryPrimitives.ReadInt16BigEndian(frame[(position + 4)..]);
        if (partitionError != 0) throw new InvalidDataException($"fetch of partition 0 failed with Kafka error {partitionError}");
        position += 4 + 2 + 8 + 8 + 8;
        var aborted = BinaryPrimitives.ReadInt32BigEndian(frame[position..]);
        position += 4 + Math.Max(0, aborted) * 16 + 4; // aborted transactions, preferred read replica
        var length = BinaryPrimitives.ReadInt32BigEndian(frame[position..]);
        position += 4;
        return length <= 0 ? [] : frame.Slice(position, length);
    }

    /// <summary>The next response frame without its size prefix, in a buffer reused by the next call.</summary>
    private async Task<ReadOnlyMemory<byte>> ReceiveFrameAsync(CancellationToken cancellationToken)
    {
        await ReceiveExactlyAsync(_receive.AsMemory(0, 4), cancellationToken);
        var size = BinaryPrimitives.ReadInt32BigEndian(_receive);
        if (size > _receive.Length) _receive = new byte[Math.Max(size, _receive.Length * 2)];
        await ReceiveExactlyAsync(_receive.AsMemory(0, size), cancellationToken);
        return _receive.AsMemory(0, size);
    }

    private async Task ReceiveExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (buffer.Length > 0)
        {
            var n = await _socket.ReceiveAsync(buffer, cancellationToken);
            if (n == 0) throw new IOException("the broker closed the connection");
            buffer = buffer[n..];
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class BinaryWriterBigEndian(Stream stream)
    {
        public void Int16(short value) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteInt16BigEndian(b, value); stream.Write(b); }

        public void Int32(int value) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteInt32BigEndian(b, value); stream.Write(b); }

        public void Int64(long value) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteInt64BigEndian(b, value); stream.Write(b); }

        public void String(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            Int16((short)bytes.Length);
            stream.Write(bytes);
        }
    }
}

public sealed record ProduceRun(long Requests, long Bytes, long Records, TimeSpan Elapsed, LatencySamples Latency)
{
    public double MegabytesPerSecond => Rate.MegabytesPerSecond(Bytes, Elapsed);

    public double RecordsPerSecond => Rate.PerSecond(Records, Elapsed);
}

public sealed record ConsumeRun(long Bytes, long Records, TimeSpan Elapsed)
{
    public double MegabytesPerSecond => Rate.MegabytesPerSecond(Bytes, Elapsed);

    public double RecordsPerSecond => Rate.PerSecond(Records, Elapsed);
}

/// <summary>
/// The pacer's publisher at the wire: one record per Produce request (acks=1) to partition 0, sent at
/// once from the caller's thread; a receiver takes the answers in order. Each send's task completes
/// with its answer, so the pacer bounds what is unacknowledged as it does for every other system.
/// </summary>
public sealed class WirePublisher : IAsyncDisposable
{
    private readonly WireConnection _connection;
    private readonly string _topic;
    private readonly System.Threading.Channels.Channel<TaskCompletionSource> _due =
        System.Threading.Channels.Channel.CreateUnbounded<TaskCompletionSource>(new() { SingleReader = true, SingleWriter = true });
    private readonly Task _receiver;
    private int _correlationId;

    private WirePublisher(WireConnection connection, string topic)
    {
        _connection = connection;
        _topic = topic;
        _receiver = Task.Run(ReceiveAsync);
    }

    public static async Task<WirePublisher> ConnectAsync(int port, string topic) =>
        new(await WireConnection.ConnectAsync(port, CancellationToken.None), topic);

    public Task Send(long value)
    {
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Queued before it is sent, so the receiver never reads an answer it has no request for.
        // Refused once the receiver has failed: the pacer then fails instead of waiting for answers.
        if (!_due.Writer.TryWrite(answered)) return _receiver.IsFaulted ? _receiver : Task.FromException(new InvalidOperationException("the publisher is closed"));
        _connection.Send(WireConnection.SingleRecordFrame(_topic, value, ++_correlationId));
        return answered.Task;
    }

    private async Task ReceiveAsync()
    {
        await foreach (var answered in _due.Reader.ReadAllAsync())
        {
            try
            {
                await _connection.ReceiveProduceAnswerAsync(1, CancellationToken.None);
                answered.SetResult();
            }
            catch (Exception ex)
            {
                _due.Writer.TryComplete(ex); // no more sends
                answered.SetException(ex);
                while (_due.Reader.TryRead(out var next)) next.SetException(ex);
                throw;
            }
        }
    }

    /// <summary>Waits for every answer still due, then disconnects.</summary>
    public async ValueTask DisposeAsync()
    {
        _due.Writer.TryComplete();
        try
        {
            await _receiver.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }
}
