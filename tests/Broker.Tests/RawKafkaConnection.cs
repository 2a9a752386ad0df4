using System.Buffers.Binary;
using System.IO.Hashing;
using System.Net.Sockets;
using System.Text;

namespace Shop.Broker.Tests;

/// <summary>
/// A bare TCP connection speaking Kafka frames by hand, for what no well-behaved client sends:
/// garbage, oversize frames, unknown keys and versions, batches with a wrong CRC.
/// </summary>
public sealed class RawKafkaConnection : IDisposable
{
    private readonly TcpClient _client;
    private NetworkStream _stream = null!;

    private RawKafkaConnection(TcpClient client) => _client = client;

    /// <summary>Connects to the broker on loopback; <paramref name="from"/> picks the client's own address (127.0.0.2 is loopback too).</summary>
    public static async Task<RawKafkaConnection> ConnectAsync(int port, System.Net.IPAddress? from = null)
    {
        var connection = new RawKafkaConnection(from is null ? new TcpClient() : new TcpClient(new System.Net.IPEndPoint(from, 0)));
        await connection._client.ConnectAsync(from is null ? "localhost" : "127.0.0.1", port);
        connection._stream = connection._client.GetStream();
        return connection;
    }

    public Task SendRawAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    /// <summary>Sends a request frame with header v1 and the given body.</summary>
    public Task SendRequestAsync(short apiKey, short version, int correlationId, byte[] body) => SendRawAsync(RequestFrame(apiKey, version, correlationId, body));

    /// <summary>A request frame with header v1 (size prefix included), to send alone or several at once.</summary>
    public static byte[] RequestFrame(short apiKey, short version, int correlationId, byte[] body) =>
        RequestFrames.Build(apiKey, version, correlationId, "raw-test"u8, body);

    /// <summary>The next response frame (without its size), or null when the broker closed the connection.</summary>
    public async Task<byte[]?> ReadResponseAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var size = new byte[4];
        if (!await ReadExactlyAsync(size, cts.Token)) return null;
        var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        return await ReadExactlyAsync(frame, cts.Token) ? frame : null;
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            int n;
            try { n = await _stream.ReadAsync(buffer.AsMemory(read), cancellationToken); }
            catch (IOException) { return false; } // reset by the broker
            if (n == 0) return false;
            read += n;
        }
        return true;
    }

    /// <summary>A record batch v2 with one record; <paramref name="breakCrc"/> flips a value byte after the CRC is computed.</summary>
    public static byte[] OneRecordBatch(string value, bool breakCrc = false)
    {
        var valueBytes = Encoding.UTF8.GetBytes(value);
        var record = new List<byte> { 0 }; // attributes
        record.Add(0); // timestamp delta (varlong 0)
        record.Add(0); // offset delta
        record.Add(1); // key length -1 (zigzag)
        record.Add((byte)(valueBytes.Length * 2)); // value length (zigzag, < 64 bytes)
        record.AddRange(valueBytes);
        record.Add(0); // no headers
        var recordBytes = new List<byte> { (byte)(record.Count * 2) };
        recordBytes.AddRange(record);

        var batch = new byte[61 + recordBytes.Count];
        var span = batch.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(span, 0);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], batch.Length - 12);
        BinaryPrimitives.WriteInt32BigEndian(span[12..], -1); // partition leader epoch
        span[16] = 2; // magic
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        BinaryPrimitives.WriteInt16BigEndian(span[21..], 0); // attributes
        BinaryPrimitives.WriteInt32BigEndian(span[23..], 0); // last offset delta
        BinaryPrimitives.WriteInt64BigEndian(span[27..], now);
        BinaryPrimitives.WriteInt64BigEndian(span[35..], now);
        BinaryPrimitives.WriteInt64BigEndian(span[43..], -1); // producer id
        BinaryPrimitives.WriteInt16BigEndian(span[51..], -1);
        BinaryPrimitives.WriteInt32BigEndian(span[53..], -1);
        BinaryPrimitives.WriteInt32BigEndian(span[57..], 1); // records
        recordBytes.ToArray().CopyTo(span[61..]);
        BinaryPrimitives.WriteUInt32BigEndian(span[17..], Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, span[21..]));
        if (breakCrc) batch[^2] ^= 0xff;
        return batch;
    }

    /// <summary>A Produce v3 body for one partition.</summary>
    public static byte[] ProduceBody(string topic, int partition, byte[] records, short acks = -1)
    {
        var topicBytes = Encoding.UTF8.GetBytes(topic);
        var body = new byte[2 + 2 + 4 + 4 + 2 + topicBytes.Length + 4 + 4 + 4 + records.Length];
        var span = body.AsSpan();
        BinaryPrimitives.WriteInt16BigEndian(span, -1); // no transactional id
        BinaryPrimitives.WriteInt16BigEndian(span[2..], acks);
        BinaryPrimitives.WriteInt32BigEndian(span[4..], 5000);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], 1);
        BinaryPrimitives.WriteInt16BigEndian(span[12..], (short)topicBytes.Length);
        topicBytes.CopyTo(span[14..]);
        var at = 14 + topicBytes.Length;
        BinaryPrimitives.WriteInt32BigEndian(span[at..], 1);
        BinaryPrimitives.WriteInt32BigEndian(span[(at + 4)..], partition);
        BinaryPrimitives.WriteInt32BigEndian(span[(at + 8)..], records.Length);
        records.CopyTo(span[(at + 12)..]);
        return body;
    }

    // Produce v3 response of one topic and partition: correlation id, [topic: string, [partition int32, error int16, base offset int64, append time int64]], throttle.
    public static short ProduceError(byte[] response, string topic) => BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(ProducePartitionStart(topic) + 4));

    public static long ProduceBaseOffset(byte[] response, string topic) => BinaryPrimitives.ReadInt64BigEndian(response.AsSpan(ProducePartitionStart(topic) + 6));

    private static int ProducePartitionStart(string topic) => 4 + 4 + 2 + Encoding.UTF8.GetByteCount(topic) + 4;

    public void Dispose() => _client.Dispose();
}
