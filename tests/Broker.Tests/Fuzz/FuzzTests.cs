using System.Diagnostics;
using Shop.BrokerFuzz;
using Xunit.Abstractions;

namespace Shop.Broker.Tests.Fuzz;

/// <summary>
/// A seeded mutation fuzzer over every request parser and handler and the record batch codecs,
/// seeded with frames recorded from real clients. CI runs a smoke of 20,000 inputs; the long mode
/// (<c>FUZZ_INPUTS=1000000</c>) runs a million. A failing input is written to
/// <c>tests/Broker.Tests/Fuzz/regressions/</c>, where every input found so far is replayed by
/// <see cref="Every_input_that_ever_failed_is_handled_now"/>.
/// </summary>
public sealed class FuzzTests(RecordedCorpus corpus, ITestOutputHelper output) : IClassFixture<RecordedCorpus>
{
    private static string RegressionsDir => Path.Combine(ExternalTool.RepoRoot, "tests", "Broker.Tests", "Fuzz", "regressions");

    private static int Setting(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : fallback;

    [Fact]
    public async Task Mutated_client_frames_get_an_answer_or_a_closed_connection_and_nothing_else()
    {
        var inputs = Setting("FUZZ_INPUTS", 20_000);
        var seed = Setting("FUZZ_SEED", Environment.TickCount & 0x7fffffff);
        Assert.True(corpus.Frames.Count > 50, $"only {corpus.Frames.Count} frames recorded");
        if (Environment.GetEnvironmentVariable("FUZZ_SEEDS_OUT") is { Length: > 0 } seedsOut) // for afl++ (tools/BrokerFuzz)
        {
            Directory.CreateDirectory(seedsOut);
            for (var i = 0; i < corpus.Frames.Count; i++) await File.WriteAllBytesAsync(Path.Combine(seedsOut, $"frame-{i:D4}.bin"), corpus.Frames[i]);
        }
        using var target = new FuzzTarget();
        var mutator = new FrameMutator(seed);
        var clock = Stopwatch.StartNew();
        var startRss = Environment.WorkingSet;
        var peakRss = startRss;
        var failures = new List<(byte[] Input, string Problem)>();
        for (var i = 0; i < inputs && failures.Count < 5; i++)
        {
            var input = i < corpus.Frames.Count ? corpus.Frames[i] : mutator.Mutate(corpus.Frames);
            if (await target.RunAsync(input) is { } problem) failures.Add((input, problem));
            if (i % 1000 == 0)
            {
                peakRss = Math.Max(peakRss, Environment.WorkingSet);
                if (i % 100_000 == 0 && i > 0) output.WriteLine($"{i} inputs, {clock.Elapsed.TotalSeconds:0} s, RSS {Environment.WorkingSet >> 20} MiB");
            }
        }

        var hangs = failures.Count(f => f.Problem.StartsWith("hang", StringComparison.Ordinal));
        output.WriteLine($"fuzz: {inputs} inputs from {corpus.Frames.Count} recorded frames (seed {seed}) in {clock.Elapsed.TotalSeconds:0.0} s: "
            + $"{failures.Count - hangs} crashes, {hangs} hangs, RSS {startRss >> 20} → peak {peakRss >> 20} MiB");
        foreach (var (input, problem) in failures)
        {
            var file = Path.Combine(RegressionsDir, $"{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(input))[..16]}.hex");
            Directory.CreateDirectory(RegressionsDir);
            await File.WriteAllTextAsync(file, Convert.ToHexString(input));
            output.WriteLine($"{problem}\n  kept as {file}");
        }
        Assert.True(failures.Count == 0,
            $"{failures.Count} inputs failed (seed {seed}); replay: FUZZ_SEED={seed} FUZZ_INPUTS={inputs} dotnet test tests/Broker.Tests --filter FullyQualifiedName~FuzzTests\n"
            + string.Join("\n", failures.Select(f => f.Problem)));
        Assert.True(peakRss - startRss < 1L << 30, $"memory grew by {(peakRss - startRss) >> 20} MiB");
    }

    [Fact]
    public async Task Mutated_byte_streams_over_tcp_never_take_the_broker_down()
    {
        // The frame reader (size prefixes, partial and coalesced frames) lives in the connection
        // handler: this target sends mutated streams to a real broker process.
        var streams = Setting("FUZZ_STREAMS", 2_000);
        var seed = Setting("FUZZ_SEED", Environment.TickCount & 0x7fffffff);
        var random = new Random(seed);
        var mutator = new FrameMutator(seed);
        await using var broker = await BrokerProcess.StartAsync("--Broker:MaxFrameBytes=1048576", "--Broker:MaxInFlightRequestBytes=8388608");
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < streams; i++)
        {
            var stream = new List<byte>();
            for (var frames = 1 + random.Next(3); frames > 0; frames--)
            {
                var frame = random.Next(4) == 0 ? corpus.Frames[random.Next(corpus.Frames.Count)] : mutator.Mutate(corpus.Frames);
                var size = new byte[4];
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(size, random.Next(8) == 0 ? random.Next() - random.Next() : frame.Length);
                stream.AddRange(size);
                stream.AddRange(frame);
            }
            if (random.Next(4) == 0) // cut short: the rest never comes
            {
                var cut = random.Next(stream.Count);
                stream.RemoveRange(cut, stream.Count - cut);
            }
            using var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(System.Net.IPAddress.Loopback, broker.Port);
            var bytes = stream.ToArray();
            var network = client.GetStream();
            try
            {
                for (var at = 0; at < bytes.Length;)
                {
                    var chunk = Math.Min(bytes.Length - at, 1 + random.Next(512));
                    await network.WriteAsync(bytes.AsMemory(at, chunk));
                    at += chunk;
                }
                // No more from us: the broker handles what it has, then hangs up. It must, in time.
                client.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
                using var patience = new CancellationTokenSource(FuzzTarget.HangAfter);
                var sink = new byte[64 * 1024];
                while (await network.ReadAsync(sink, patience.Token) > 0) { }
            }
            catch (IOException)
            {
                // the broker hung up on garbage: expected
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"hang: the broker neither answered nor closed stream {i} (seed {seed}) within {FuzzTarget.HangAfter.TotalSeconds} s: {Convert.ToHexString(bytes)}");
            }
        }
        output.WriteLine($"fuzz over tcp: {streams} streams (seed {seed}) in {clock.Elapsed.TotalSeconds:0.0} s, broker RSS {broker.ResidentBytes() >> 20} MiB");

        // Still serving, and no connection died of anything but a refusal.
        using var admin = new Confluent.Kafka.AdminClientBuilder(new Confluent.Kafka.AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        Assert.NotEmpty(admin.GetMetadata(TimeSpan.FromSeconds(30)).Brokers);
        Assert.DoesNotContain("failed; closing it", broker.Output);
    }

    public static TheoryData<string> Regressions()
    {
        var data = new TheoryData<string>();
        if (Directory.Exists(RegressionsDir))
        {
            foreach (var file in Directory.GetFiles(RegressionsDir, "*.hex").Order()) data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Regressions))]
    public async Task Every_input_that_ever_failed_is_handled_now(string file)
    {
        using var target = new FuzzTarget();
        var input = Convert.FromHexString((await File.ReadAllTextAsync(Path.Combine(RegressionsDir, file))).Trim());
        Assert.Null(await target.RunAsync(input));
    }
}
