using System.Diagnostics;
using Shop.Broker.Security;

namespace Shop.Broker.Console;

/// <summary>
/// The broker process's own runtime counters (GC and memory), read-only: what the console shows
/// and what the bench samples before and after a workload to report bytes allocated per byte moved
/// and gen2 collections per second, from the runtime itself rather than from outside guesses.
/// </summary>
internal static class RuntimeEndpoints
{
    public static void MapRuntimeEndpoints(this RouteGroupBuilder api) =>
        api.MapGet("/runtime", (HttpContext context, ConsoleAccess access) =>
        {
            access.Demand(context, AclOperation.Describe, ResourceType.Cluster, AclBinding.ClusterName);
            var gc = GC.GetGCMemoryInfo();
            using var process = Process.GetCurrentProcess();
            return TypedResults.Ok(new
            {
                allocatedBytes = GC.GetTotalAllocatedBytes(precise: false),
                gen0Collections = GC.CollectionCount(0),
                gen1Collections = GC.CollectionCount(1),
                gen2Collections = GC.CollectionCount(2),
                gcPauseMs = GC.GetTotalPauseDuration().TotalMilliseconds,
                heapBytes = gc.HeapSizeBytes,
                largeObjectHeapBytes = gc.GenerationInfo.Length > 3 ? gc.GenerationInfo[3].SizeAfterBytes : 0,
                workingSetBytes = process.WorkingSet64,
                cpuMs = process.TotalProcessorTime.TotalMilliseconds,
                uptimeMs = (DateTime.Now - process.StartTime).TotalMilliseconds,
            });
        });
}
