using System.Buffers.Binary;

namespace Shop.Broker.Tests.Fuzz;

/// <summary>
/// Seeded mutations of request frames, the kinds that find parser bugs: flipped bits, bytes and
/// Kafka's interesting integers (lengths and counts of -1, 0, huge) written over any position,
/// cut or extended frames, spliced seeds. Deterministic for a given seed, so a failure replays.
/// </summary>
internal sealed class FrameMutator(int seed)
{
    private static readonly long[] Interesting = [0, 1, -1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, int.MaxValue, int.MinValue, 0x7ffffff0, -2];

    private readonly Random _random = new(seed);

    public byte[] Mutate(IReadOnlyList<byte[]> seeds)
    {
        var frame = seeds[_random.Next(seeds.Count)].ToArray();
        var rounds = 1 + _random.Next(4);
        for (var i = 0; i < rounds; i++) frame = Once(frame, seeds);
        return frame;
    }

    private byte[] Once(byte[] frame, IReadOnlyList<byte[]> seeds)
    {
        if (frame.Length == 0) return [(byte)_random.Next(256)];
        var at = _random.Next(frame.Length);
        switch (_random.Next(9))
        {
            case 0: // flip a bit
                frame[at] ^= (byte)(1 << _random.Next(8));
                return frame;
            case 1: // a random byte
                frame[at] = (byte)_random.Next(256);
                return frame;
            case 2 when at + 2 <= frame.Length: // an int16 length or count
                BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(at), (short)Interesting[_random.Next(Interesting.Length)]);
                return frame;
            case 3 when at + 4 <= frame.Length: // an int32 length or count
                BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(at), (int)Interesting[_random.Next(Interesting.Length)]);
                return frame;
            case 4: // cut short
                return frame[..at];
            case 5: // grown with garbage
                return [.. frame, .. Enumerable.Range(0, 1 + _random.Next(64)).Select(_ => (byte)_random.Next(256))];
            case 6: // a varint of many bytes (compact lengths, tagged fields)
                for (var i = at; i < Math.Min(frame.Length, at + 1 + _random.Next(10)); i++) frame[i] = 0xff;
                return frame;
            case 7: // spliced with another seed
                var other = seeds[_random.Next(seeds.Count)];
                var from = _random.Next(other.Length);
                return [.. frame[..at], .. other[from..]];
            default: // a run of bytes copied elsewhere in the frame
                var length = _random.Next(1, Math.Min(32, frame.Length - at) + 1);
                var to = _random.Next(frame.Length - length + 1);
                frame.AsSpan(at, length).ToArray().CopyTo(frame, to);
                return frame;
        }
    }
}
