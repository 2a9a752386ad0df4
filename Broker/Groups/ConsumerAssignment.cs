using Shop.Broker.Protocol;

namespace Shop.Broker.Groups;

/// <summary>
/// Reads the partitions out of a member's assignment in the "consumer" embedded protocol
/// (version, [topic, [partition]], user data): the broker stores it as opaque bytes, but lag of a
/// partition that is assigned and never committed is worth showing too.
/// </summary>
public static class ConsumerAssignment
{
    /// <summary>The assigned partitions, or none when the bytes are not a consumer-protocol assignment.</summary>
    public static IReadOnlyList<(string Topic, int Partition)> Partitions(byte[] assignment)
    {
        if (assignment.Length < 6) return [];
        try
        {
            var reader = new KafkaReader(assignment);
            reader.ReadInt16();
            var partitions = new List<(string, int)>();
            for (int t = 0, topics = reader.ReadArrayLength(); t < topics; t++)
            {
                var topic = reader.ReadString();
                for (int p = 0, count = reader.ReadArrayLength(4); p < count; p++) partitions.Add((topic, reader.ReadInt32()));
            }
            return partitions;
        }
        catch (MalformedRequestException)
        {
            return [];
        }
    }
}
