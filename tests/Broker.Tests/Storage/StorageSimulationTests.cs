using Xunit.Abstractions;

namespace Shop.Broker.Tests.Storage;

/// <summary>
/// The durability contract on a simulated disk, over many seeds (see <see cref="StorageSimulation"/>).
/// <c>STORAGE_SIM_SEED=n</c> replays one seed; <c>STORAGE_SIM_SEEDS=100000</c> is the long mode.
/// </summary>
public sealed class StorageSimulationTests(ITestOutputHelper output)
{
    private const int Steps = 300;

    [Fact]
    public void Every_seed_keeps_the_durability_contract_through_power_cuts()
    {
        var (first, count) = Environment.GetEnvironmentVariable("STORAGE_SIM_SEED") is { Length: > 0 } one
            ? (int.Parse(one), 1)
            : (0, int.Parse(Environment.GetEnvironmentVariable("STORAGE_SIM_SEEDS") ?? "1000"));
        var started = System.Diagnostics.Stopwatch.StartNew();
        long steps = 0, powerCuts = 0;
        for (var seed = first; seed < first + count; seed++)
        {
            var simulation = new StorageSimulation(seed);
            simulation.Run(Steps);
            steps += simulation.Steps;
            powerCuts += simulation.PowerCuts;
            if (count > 1000 && seed % 1000 == 999) output.WriteLine($"{seed + 1 - first}/{count} seeds, {started.Elapsed.TotalSeconds:F0} s");
        }
        output.WriteLine($"{count} seeds, {steps} steps, {powerCuts} power cuts in {started.Elapsed.TotalSeconds:F1} s");
    }
}
