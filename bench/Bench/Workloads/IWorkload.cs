namespace Shop.Bench.Workloads;

public interface IWorkload
{
    /// <summary>Short name used on the command line and in result file names.</summary>
    string Name { get; }

    string Description { get; }

    Task<IReadOnlyList<Figure>> RunAsync(BenchSettings settings, IProgress<string> progress, CancellationToken cancellationToken);
}
