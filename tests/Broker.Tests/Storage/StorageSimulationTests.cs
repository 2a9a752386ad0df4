using Xunit.Abstractions;

namespace Shop.Broker.Tests.Storage;

/// <summary>
/// The durability contract on a simulated disk, over many seeds (see <see cref="StorageSimulation"/>).
/// <c>STORAGE_SIM_SEED=n</c> replays one seed; <c>STORAGE_SIM_SEEDS=100000</c> is the long mode.
/// </summary>
public sealed class StorageSimulationTests(ITestOutputHelper output)
{
    private const int Steps = 300;

    /// <summary>Seeds that once failed (found by the long mode): always run, so their bugs stay fixed.</summary>
    private static readonly int[] RegressionSeeds = [72683];

    [Fact]
    public void Every_seed_keeps_the_durability_contract_through_power_cuts()
    {
        var one = Environment.GetEnvironmentVariable("STORAGE_SIM_SEED");
        var replay = !string.IsNullOrEmpty(one);
        var (first, count) = replay
            ? (int.Parse(one!), 1)
            : (int.Parse(Environment.GetEnvironmentVariable("STORAGE_SIM_FIRST") ?? "0"), int.Parse(Environment.GetEnvironmentVariable("STORAGE_SIM_SEEDS") ?? "1000"));
        if (!replay)
        {
            foreach (var seed in RegressionSeeds) new StorageSimulation(seed).Run(Steps);
        }
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
