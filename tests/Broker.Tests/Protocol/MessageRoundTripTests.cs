using System.Collections;
using System.Reflection;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;

namespace Shop.Broker.Tests.Protocol;

/// <summary>
/// In-process checks of the generated messages: every field set, written, read back and written
/// again gives the same bytes in every version, and tagged fields behave as the protocol says.
/// </summary>
public sealed class MessageRoundTripTests
{
    public static TheoryData<string> MessageTypes => new(typeof(FetchRequest).Assembly.GetTypes()
        .Where(t => t.Namespace == typeof(FetchRequest).Namespace && !t.IsNested && t.IsClass)
        .Select(t => t.Name).Order());

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void Every_version_reads_back_what_it_wrote(string name)
    {
        var type = typeof(FetchRequest).Assembly.GetType($"{typeof(FetchRequest).Namespace}.{name}")!;
        var roundTrip = typeof(MessageRoundTripTests).GetMethod(nameof(RoundTrip), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        var lowest = (short)type.GetField("LowestVersion")!.GetValue(null)!;
        var highest = (short)type.GetField("HighestVersion")!.GetValue(null)!;
        for (var version = lowest; version <= highest; version++)
        {
            var message = Fill(Activator.CreateInstance(type)!);
            try
            {
                roundTrip.Invoke(null, [message, version]);
            }
            catch (TargetInvocationException ex)
            {
                throw new Xunit.Sdk.XunitException($"{name} v{version}: {ex.InnerException}");
            }
        }
    }

    private static void RoundTrip<T>(T message, short version) where T : IKafkaMessage<T>
    {
        var written = Bytes(message, version);
        var reader = new KafkaReader(written);
        var read = T.Read(ref reader, version);
        Assert.Equal(0, reader.Remaining);
        Assert.Equal(written, Bytes(read, version));
    }

    private static byte[] Bytes<T>(T message, short version) where T : IKafkaMessage<T>
    {
        var writer = new KafkaWriter();
        message.Write(writer, version);
        return writer.ToFrame()[4..].ToArray();
    }

    /// <summary>Sets every property to a value that is not its default (non-null everywhere, two elements per array).</summary>
    private static object Fill(object target)
    {
        foreach (var property in target.GetType().GetProperties().Where(p => p.CanWrite))
        {
            property.SetValue(target, Sample(Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType, property.Name));
        }
        return target;
    }

    private static object Sample(Type type, string name)
    {
        if (type == typeof(bool)) return true;
        if (type == typeof(sbyte)) return (sbyte)7;
        if (type == typeof(short)) return (short)300;
        if (type == typeof(ushort)) return (ushort)40000;
        if (type == typeof(int)) return 70000;
        if (type == typeof(long)) return 1L << 40;
        if (type == typeof(double)) return 0.25;
        if (type == typeof(Guid)) return Guid.Parse("0f0e0d0c-0b0a-0908-0706-050403020100");
        if (type == typeof(string)) return "value of " + name;
        if (type == typeof(ReadOnlyMemory<byte>)) return new ReadOnlyMemory<byte>([1, 2, 3]);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            var list = (IList)Activator.CreateInstance(type)!;
            var element = type.GetGenericArguments()[0];
            list.Add(Sample(element, name));
            list.Add(Sample(element, name));
            return list;
        }
        return Fill(Activator.CreateInstance(type)!);
    }

    [Fact]
    public void Tagged_fields_travel_only_in_their_versions_and_only_when_set()
    {
        var request = new FetchRequest { ClusterId = "shop", ReplicaState = new() { ReplicaId = 3, ReplicaEpoch = 9 }, MaxWaitMs = 500 };

        var v15 = ReadBack(request, 15);
        Assert.Equal("shop", v15.ClusterId);
        Assert.Equal((3, 9L), (v15.ReplicaState!.ReplicaId, v15.ReplicaState.ReplicaEpoch));
        Assert.Equal(500, v15.MaxWaitMs);

        var v12 = ReadBack(request, 12);
        Assert.Equal("shop", v12.ClusterId);
        Assert.Null(v12.ReplicaState); // tag 1 starts at v15

        // Unset tagged fields cost one byte: the empty tag count.
        var unset = Bytes(new FetchRequest(), 12);
        var set = Bytes(new FetchRequest { ClusterId = "shop" }, 12);
        Assert.Equal(unset.Length + 1 + 1 + 1 + 4, set.Length); // tag, size, compact length, "shop"
    }

    [Fact]
    public void Unknown_tagged_fields_are_skipped()
    {
        // HeartbeatResponse v4: throttle time, error code, then two tagged fields this schema has never heard of.
        byte[] body = [0, 0, 0, 5, 0, 27, 2, 7, 2, 0xAA, 0xBB, 90, 0];
        var reader = new KafkaReader(body);
        var response = HeartbeatResponse.Read(ref reader, 4);
        Assert.Equal((5, (short)27), (response.ThrottleTimeMs, response.ErrorCode));
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void Nullable_fields_are_null_only_where_the_schema_allows()
    {
        var allTopics = new MetadataRequest { Topics = null };
        Assert.Null(ReadBack(allTopics, 1).Topics);
        Assert.Null(ReadBack(allTopics, 9).Topics); // compact: length 0
        Assert.Throws<InvalidOperationException>(() => Bytes(allTopics, 0)); // v0 has no null topics

        var defaults = ReadBack(new FetchRequest(), 4);
        Assert.Equal(int.MaxValue, defaults.MaxBytes); // the schema's default, sent as is
        Assert.Equal(-1, ReadBack(new FetchRequest(), 3).SessionEpoch); // absent in v3: the default
    }

    [Fact]
    public void ApiVersions_v3_has_compact_arrays_and_a_tag_byte_per_entry()
    {
        var response = new ApiVersionsResponse { ApiKeys = [new() { ApiKey = 18, MinVersion = 0, MaxVersion = 3 }] };
        Assert.Equal(new byte[] { 0, 0, 2, 0, 18, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0 }, Bytes(response, 3));
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 1, 0, 18, 0, 0, 0, 3 }, Bytes(response, 0));
    }

    private static T ReadBack<T>(T message, short version) where T : IKafkaMessage<T>
    {
        var reader = new KafkaReader(Bytes(message, version));
        return T.Read(ref reader, version);
    }
}
