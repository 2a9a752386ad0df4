using System.Diagnostics;
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
