using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using K4os.Compression.LZ4.Streams;

namespace Shop.Broker.Protocol;

/// <summary>
/// The record batch codecs (attributes bits 0–2), for the rare places the broker must see inside a
/// compressed batch: compaction and offsets by timestamp. Batches are otherwise stored and served
/// as received, never decompressed.
/// </summary>
public static class RecordCodecs
{
    public const int None = 0;
    public const int Gzip = 1;
    public const int Snappy = 2;
    public const int Lz4 = 3;
    public const int Zstd = 4;

    // snappy-java's stream framing, which the Java client writes: magic, version, compatible version, then (length, block)*.
    private static ReadOnlySpan<byte> XerialMagic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];
    private const int XerialHeaderSize = 16;

    public static byte[] Decompress(int codec, ReadOnlySpan<byte> data) => codec switch
    {
        None => data.ToArray(),
        Gzip => Gunzip(data),
        Snappy => UnSnappy(data),
        Lz4 => Decode(data),
        Zstd => new ZstdSharp.Decompressor().Unwrap(data).ToArray(),
        _ => throw new InvalidDataException($"unknown compression codec {codec}"),
    };

    public static byte[] Compress(int codec, ReadOnlySpan<byte> data) => codec switch
    {
        None => data.ToArray(),
        Gzip => Gzipped(data),
        Snappy => Snappier.Snappy.CompressToArray(data), // raw snappy, as librdkafka writes it; every client reads it
        Lz4 => Encode(data),
        Zstd => new ZstdSharp.Compressor().Wrap(data).ToArray(),
        _ => throw new InvalidDataException($"unknown compression codec {codec}"),
    };

    private static byte[] Gunzip(ReadOnlySpan<byte> data)
    {
        using var input = new GZipStream(new MemoryStream(data.ToArray()), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static byte[] Gzipped(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }

    private static byte[] UnSnappy(ReadOnlySpan<byte> data)
    {
        if (!data.StartsWith(XerialMagic)) return Snappier.Snappy.DecompressToArray(data);
        using var output = new MemoryStream();
        for (var position = XerialHeaderSize; position < data.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(data[position..]);
            position += 4;
            output.Write(Snappier.Snappy.DecompressToArray(data.Slice(position, length)));
            position += length;
        }
        return output.ToArray();
    }

    private static byte[] Decode(ReadOnlySpan<byte> data)
    {
        var output = new ArrayBufferWriter<byte>(Math.Max(256, data.Length * 4));
        LZ4Frame.Decode(data, output);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] Encode(ReadOnlySpan<byte> data)
    {
        var output = new ArrayBufferWriter<byte>(Math.Max(256, data.Length));
        LZ4Frame.Encode(data, output);
        return output.WrittenSpan.ToArray();
    }
}
