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

    /// <summary>
    /// No batch decompresses to more than this: a few kilobytes of zeros can claim gigabytes (a
    /// "zip bomb"), and the broker decompresses in compaction and timestamp lookups.
    /// </summary>
    public const int MaxDecompressedBytes = 256 * 1024 * 1024;

    /// <summary>The records of a compressed batch; <see cref="InvalidDataException"/> when corrupt or larger than <paramref name="maxBytes"/>.</summary>
    public static byte[] Decompress(int codec, ReadOnlySpan<byte> data, int maxBytes = MaxDecompressedBytes) => codec switch
    {
        None => data.ToArray(),
        Gzip => ReadAtMost(new GZipStream(new MemoryStream(data.ToArray()), CompressionMode.Decompress), maxBytes),
        Snappy => UnSnappy(data, maxBytes),
        Lz4 => ReadAtMost(LZ4Stream.Decode(new MemoryStream(data.ToArray())), maxBytes),
        Zstd => ReadAtMost(new ZstdSharp.DecompressionStream(new MemoryStream(data.ToArray())), maxBytes),
        _ => throw new InvalidDataException($"unknown compression codec {codec}"),
    };

    /// <summary>Everything the stream gives, refusing to hold more than <paramref name="maxBytes"/>; codec errors become <see cref="InvalidDataException"/>.</summary>
    private static byte[] ReadAtMost(Stream input, int maxBytes)
    {
        using (input)
        {
            using var output = new MemoryStream();
            var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                int read;
                while ((read = input.Read(buffer)) > 0)
                {
                    if (output.Length + read > maxBytes) throw TooLarge(maxBytes);
                    output.Write(buffer, 0, read);
                }
                return output.ToArray();
            }
            catch (Exception ex) when (ex is not InvalidDataException and not OutOfMemoryException)
            {
                throw new InvalidDataException($"the compressed records cannot be read: {ex.Message}", ex);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static InvalidDataException TooLarge(int maxBytes) => new($"the records decompress to more than {maxBytes} bytes");

    public static byte[] Compress(int codec, ReadOnlySpan<byte> data) => codec switch
    {
        None => data.ToArray(),
        Gzip => Gzipped(data),
        Snappy => Snappier.Snappy.CompressToArray(data), // raw snappy, as librdkafka writes it; every client reads it
        Lz4 => Encode(data),
        Zstd => new ZstdSharp.Compressor().Wrap(data).ToArray(),
        _ => throw new InvalidDataException($"unknown compression codec {codec}"),
    };

    private static byte[] Gzipped(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }

    /// <summary>Raw snappy (librdkafka) or snappy-java's framing; each block says its size up front, checked before anything is allocated.</summary>
    private static byte[] UnSnappy(ReadOnlySpan<byte> data, int maxBytes)
    {
        try
        {
            if (!data.StartsWith(XerialMagic)) return UnSnappyBlock(data, maxBytes);
            using var output = new MemoryStream();
            for (var position = XerialHeaderSize; position < data.Length;)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(data[position..]);
                position += 4;
                if (length < 0 || length > data.Length - position) throw new InvalidDataException($"a snappy block of {length} bytes overruns the batch");
                output.Write(UnSnappyBlock(data.Slice(position, length), maxBytes - (int)output.Length));
                position += length;
            }
            return output.ToArray();
        }
        catch (Exception ex) when (ex is not InvalidDataException)
        {
            throw new InvalidDataException($"the compressed records cannot be read: {ex.Message}", ex);
        }
    }

    private static byte[] UnSnappyBlock(ReadOnlySpan<byte> block, int maxBytes) =>
        Snappier.Snappy.GetUncompressedLength(block) > maxBytes ? throw TooLarge(maxBytes) : Snappier.Snappy.DecompressToArray(block);

    private static byte[] Encode(ReadOnlySpan<byte> data)
    {
        var output = new ArrayBufferWriter<byte>(Math.Max(256, data.Length));
        LZ4Frame.Encode(data, output);
        return output.WrittenSpan.ToArray();
    }
}
