using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Shop.Broker.Console;

namespace Shop.Broker.Tests.Console;

/// <summary>
/// The console's admin API against a real broker process, with records written and read by a real
/// Kafka client: browse from every starting point, filter, tail, produce by key, reset offsets,
/// replay dead letters.
/// </summary>
public sealed class ConsoleApiTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private HttpClient Http { get; } = new() { BaseAddress = new Uri(fixture.Broker.ConsoleUrl) };

    private IProducer<string, byte[]> Producer() => new ProducerBuilder<string, byte[]>(new ProducerConfig
    {
        BootstrapServers = fixture.Broker.BootstrapServers, Acks = Acks.All, Partitioner = Partitioner.Murmur2Random,
    }).Build();

    private static Message<string, byte[]> Message(string key, string value, params (string Key, string Value)[] headers)
    {
        var message = new Message<string, byte[]> { Key = key, Value = Encoding.UTF8.GetBytes(value), Headers = [] };
        foreach (var (k, v) in headers) message.Headers.Add(k, Encoding.UTF8.GetBytes(v));
        return message;
    }

    private async Task CreateTopicAsync(string name, int partitions) =>
        (await Http.PostAsJsonAsync("/api/topics", new { name, partitions })).EnsureSuccessStatusCode();

    private async Task<JsonElement> GetAsync(string path)
    {
        var response = await Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static List<JsonElement> Messages(JsonElement page) => page.GetProperty("messages").EnumerateArray().ToList();

    [Fact]
    public async Task The_runtime_counters_show_what_the_broker_allocated_while_it_served()
    {
        var before = await GetAsync("/api/runtime");
        using (var producer = Producer())
        {
            for (var i = 0; i < 20; i++) await producer.ProduceAsync("runtime-watched", Message($"k{i}", new string('x', 10_000)));
        }
        var after = await GetAsync("/api/runtime");
        Assert.True(after.GetProperty("allocated_bytes").GetInt64() > before.GetProperty("allocated_bytes").GetInt64());
        Assert.True(after.GetProperty("cpu_ms").GetDouble() > before.GetProperty("cpu_ms").GetDouble());
        Assert.True(after.GetProperty("working_set_bytes").GetInt64() > 0);
        foreach (var counter in new[] { "gen0_collections", "gen1_collections", "gen2_collections" })
            Assert.True(after.GetProperty(counter).GetInt32() >= before.GetProperty(counter).GetInt32(), counter);
    }

    [Fact]
    public async Task Messages_are_browsed_from_the_oldest_the_newest_an_offset_or_a_time_with_headers_json_and_a_filter()
    {
        const string topic = "browsed";
        await CreateTopicAsync(topic, 1);
        using var producer = Producer();
        var before = DateTimeOffset.UtcNow;
        for (var i = 0; i < 10; i++)
            await producer.ProduceAsync(topic, Message($"order-{i}", $$"""{"order_id":"order-{{i}}","total_price":{{i}}}""", ("event-type", i % 2 == 0 ? "OrderPlaced" : "OrderCompleted"),
                ("traceparent", $"00-{i:x32}-00f067aa0ba902b7-01")));
        await Task.Delay(20); // a distinct timestamp for the next record
        var later = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = "binary", Value = [0xff, 0x00, 0xfe] });

        var oldest = Messages(await GetAsync($"/api/topics/{topic}/messages?from=oldest&limit=3"));
        Assert.Equal([0L, 1, 2], oldest.Select(m => m.GetProperty("offset").GetInt64()));
        var first = oldest[0];
        Assert.Equal("order-0", first.GetProperty("key").GetString());
        Assert.Equal("json", first.GetProperty("value_format").GetString());
        Assert.Equal("{\n  \"order_id\": \"order-0\",\n  \"total_price\": 0\n}", first.GetProperty("value").GetString());
        Assert.Contains(first.GetProperty("headers").EnumerateArray(), h => h.GetProperty("key").GetString() == "event-type" && h.GetProperty("value").GetString() == "OrderPlaced");
        Assert.Equal($"{0:x32}", first.GetProperty("trace_id").GetString());
        Assert.True(first.GetProperty("timestamp").GetInt64() >= before.ToUnixTimeMilliseconds() - 1000);

        var newest = Messages(await GetAsync($"/api/topics/{topic}/messages?from=newest&limit=2"));
        Assert.Equal([9L, 10], newest.Select(m => m.GetProperty("offset").GetInt64()));
        Assert.Equal("hex", newest[1].GetProperty("value_format").GetString());
        Assert.Equal("0xff00fe", newest[1].GetProperty("value").GetString());

        var fromOffset = Messages(await GetAsync($"/api/topics/{topic}/messages?partition=0&from=offset&offset=4&limit=2"));
        Assert.Equal([4L, 5], fromOffset.Select(m => m.GetProperty("offset").GetInt64()));

        var fromTime = Messages(await GetAsync($"/api/topics/{topic}/messages?from=timestamp&timestamp={later}"));
        Assert.Equal("binary", Assert.Single(fromTime).GetProperty("key").GetString());

        var completed = Messages(await GetAsync($"/api/topics/{topic}/messages?from=oldest&filter=ordercompleted"));
        Assert.Equal([1L, 3, 5, 7, 9], completed.Select(m => m.GetProperty("offset").GetInt64()));
        var byValue = Messages(await GetAsync($"/api/topics/{topic}/messages?from=oldest&filter=%22order-7%22"));
        Assert.Equal(7, Assert.Single(byValue).GetProperty("offset").GetInt64());

        // Bad input is named, not guessed at.
        var bad = await Http.GetAsync($"/api/topics/{topic}/messages?from=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("oldest, newest, offset or timestamp", await bad.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/api/topics/no-such-topic/messages")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"/api/topics/{topic}/messages?partition=3")).StatusCode);
    }

    [Fact]
    public async Task A_message_produced_by_key_lands_where_the_java_partitioner_puts_that_key_and_a_kafka_consumer_reads_it()
    {
        const string topic = "produced";
        await CreateTopicAsync(topic, 6);
        using var producer = Producer();
        var fromClient = await producer.ProduceAsync(topic, Message("customer-42", "{}"));

        var response = await Http.PostAsJsonAsync($"/api/topics/{topic}/messages",
            new { key = "customer-42", headers = new Dictionary<string, string> { ["event-type"] = "Hello" }, value = new { greeting = "привет" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var produced = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(fromClient.Partition.Value, produced.GetProperty("partition").GetInt32());
        Assert.Equal(fromClient.Offset.Value + 1, produced.GetProperty("offset").GetInt64());

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = fixture.Broker.BootstrapServers, GroupId = "produced-reader", AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, fromClient.Partition, fromClient.Offset + 1));
        var read = consumer.Consume(TimeSpan.FromSeconds(30));
        Assert.NotNull(read);
        Assert.Equal("customer-42", read.Message.Key);
        Assert.Equal("привет", JsonDocument.Parse(read.Message.Value).RootElement.GetProperty("greeting").GetString());
        Assert.Equal("Hello", Encoding.UTF8.GetString(read.Message.Headers.GetLastBytes("event-type")));

        var refused = await Http.PostAsJsonAsync($"/api/topics/{topic}/messages", new { key = "k" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("JSON value", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_live_tail_streams_records_as_they_are_produced()
    {
        const string topic = "tailed";
        await CreateTopicAsync(topic, 2);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await Http.GetAsync($"/api/topics/{topic}/tail", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        Assert.Equal("event: ready", await reader.ReadLineAsync(timeout.Token));

        using var producer = Producer();
        await producer.ProduceAsync(topic, Message("first", """{"n":1}"""));
        await producer.ProduceAsync(topic, Message("second", """{"n":2}"""));

        var keys = new List<string>();
        while (keys.Count < 2 && await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal) && line.Contains("\"key\""))
                keys.Add(JsonDocument.Parse(line["data: ".Length..]).RootElement.GetProperty("key").GetString()!);
        }
        Assert.Equal(["first", "second"], keys.Order());
    }

    [Fact]
    public async Task A_group_is_reset_to_earliest_only_while_it_has_no_members_and_then_reads_everything_again()
    {
        const string topic = "reset-me";
        const string group = "resettable";
        await CreateTopicAsync(topic, 2);
        using var producer = Producer();
        for (var i = 0; i < 6; i++) await producer.ProduceAsync(topic, Message($"k{i}", "{}"));

        var config = new ConsumerConfig
        {
            BootstrapServers = fixture.Broker.BootstrapServers, GroupId = group, AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        };
        using (var consumer = new ConsumerBuilder<string, string>(config).Build())
        {
            consumer.Subscribe(topic);
            for (var read = 0; read < 6;)
            {
                var result = consumer.Consume(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException("nothing consumed");
                consumer.Commit(result);
                read++;
            }
            var refused = await Http.PostAsJsonAsync($"/api/groups/{group}/offsets/reset", new { to = "earliest" });
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("only while a group is empty", await refused.Content.ReadAsStringAsync());
            consumer.Close();
        }
        var described = await GetAsync($"/api/groups/{group}");
        Assert.Equal(0, described.GetProperty("total_lag").GetInt64());

        var reset = await Http.PostAsJsonAsync($"/api/groups/{group}/offsets/reset", new { to = "earliest" });
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Equal(6, (await reset.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("total_lag").GetInt64());

        using var again = new ConsumerBuilder<string, string>(config).Build();
        again.Subscribe(topic);
        var keys = new HashSet<string>();
        while (keys.Count < 6) keys.Add((again.Consume(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException("the reset group read nothing")).Message.Key);
        Assert.Equal(6, keys.Count);
        again.Close();

        var badTarget = await Http.PostAsJsonAsync($"/api/groups/{group}/offsets/reset", new { to = "yesterday" });
        Assert.Equal(HttpStatusCode.BadRequest, badTarget.StatusCode);
    }

    [Fact]
    public async Task Dead_letters_are_listed_with_their_error_and_replayed_to_their_partition_keeping_the_message_id()
    {
        const string origin = "payments";
        await CreateTopicAsync(origin, 4);
        await CreateTopicAsync(origin + ".dlq", 1);
        using var producer = Producer();
        await producer.ProduceAsync(origin + ".dlq", Message("p-1", """{"amount":1}""", ("message-id", "m-1"), ("event-type", "Paid"),
            ("error", "InvalidOperationException: the ledger is closed"), ("original-topic", origin), ("original-partition", "3"), ("original-offset", "17"), ("attempts", "4")));
        await producer.ProduceAsync(origin + ".dlq", Message("p-2", """{"amount":2}""",
            ("error", "JsonException: not JSON"), ("original-topic", origin), ("original-partition", "1"), ("original-offset", "5"), ("attempts", "1")));

        var listed = (await GetAsync("/api/dead-letters")).EnumerateArray().Single(t => t.GetProperty("topic").GetString() == origin + ".dlq");
        Assert.Equal(2, listed.GetProperty("pending").GetInt32());
        var letter = listed.GetProperty("letters")[0];
        Assert.Equal("InvalidOperationException: the ledger is closed", letter.GetProperty("error").GetString());
        Assert.Equal(3, letter.GetProperty("original_partition").GetInt32());
        Assert.Equal(17, letter.GetProperty("original_offset").GetInt64());
        Assert.Equal(4, letter.GetProperty("attempts").GetInt32());

        var one = await Http.PostAsJsonAsync($"/api/dead-letters/{origin}.dlq/replay", new { partition = 0, offset = 0 });
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        var all = await (await Http.PostAsJsonAsync($"/api/dead-letters/{origin}.dlq/replay", new { })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, all.GetProperty("replayed").GetArrayLength());
        var twice = await (await Http.PostAsJsonAsync($"/api/dead-letters/{origin}.dlq/replay", new { })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, twice.GetProperty("replayed").GetArrayLength());

        // Back on their own partitions; the original id kept (a new one only where there was none); who replayed, said.
        var onThree = Messages(await GetAsync($"/api/topics/{origin}/messages?partition=3&from=oldest"));
        Assert.Equal(2, onThree.Count);
        Assert.All(onThree, m =>
        {
            var headers = m.GetProperty("headers").EnumerateArray().ToDictionary(h => h.GetProperty("key").GetString()!, h => h.GetProperty("value").GetString());
            Assert.Equal("m-1", headers["message-id"]);
            Assert.Equal("Paid", headers["event-type"]);
            Assert.DoesNotContain("error", headers.Keys);
            Assert.StartsWith("User:ANONYMOUS at ", headers["replayed-by"]);
            Assert.EndsWith($"from {origin}.dlq/0@0", headers["replayed-by"]);
        });
        var onOne = Assert.Single(Messages(await GetAsync($"/api/topics/{origin}/messages?partition=1&from=oldest")));
        var id = onOne.GetProperty("headers").EnumerateArray().Single(h => h.GetProperty("key").GetString() == "message-id").GetProperty("value").GetString();
        Assert.Matches("^[0-9a-f]{32}$", id);

        Assert.Equal(0, (await GetAsync("/api/dead-letters")).EnumerateArray().Single(t => t.GetProperty("topic").GetString() == origin + ".dlq").GetProperty("pending").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await Http.PostAsJsonAsync($"/api/dead-letters/{origin}/replay", new { })).StatusCode);
    }

    [Fact]
    public async Task Topics_are_created_configured_and_deleted_with_clear_refusals()
    {
        var created = await Http.PostAsJsonAsync("/api/topics", new { name = "configured", partitions = 2, configs = new Dictionary<string, string> { ["cleanup.policy"] = "compact" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var again = await Http.PostAsJsonAsync("/api/topics", new { name = "configured", partitions = 2 });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        var badName = await Http.PostAsJsonAsync("/api/topics", new { name = "no spaces please" });
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);

        var edited = await Http.PatchAsJsonAsync("/api/topics/configured/configs", new { configs = new Dictionary<string, string?> { ["retention.ms"] = "60000", ["cleanup.policy"] = null } });
        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        var topic = await GetAsync("/api/topics/configured");
        Assert.Equal("60000", topic.GetProperty("configs").GetProperty("retention.ms").GetString());
        Assert.False(topic.GetProperty("configs").TryGetProperty("cleanup.policy", out _));
        var badConfig = await Http.PatchAsJsonAsync("/api/topics/configured/configs", new { configs = new Dictionary<string, string> { ["retention.ms"] = "soon" } });
        Assert.Equal(HttpStatusCode.BadRequest, badConfig.StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("/api/topics/configured")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/api/topics/configured")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.DeleteAsync("/api/topics/__consumer_offsets")).StatusCode);
    }

    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2_matches_the_java_clients_values(string key, int expected) =>
        Assert.Equal(expected, (int)Murmur2Partitioner.Hash(Encoding.UTF8.GetBytes(key)));
}
