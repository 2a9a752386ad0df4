using System.Diagnostics;
using Shop.Bench;
using Shop.Bench.Systems;
using Shop.Bench.Workloads;

// Usage: bench [all | quick | <workload> ...] [--quick] [--out <dir>] [--scratch <dir>]
//   all    every workload, full size (aim: under 10 minutes on a 2-core machine)
//   quick  every workload, small sizes: a CI smoke run that fails only on errors, never on timing
IWorkload[] workloads = [new MachineLimits(), new NaiveFileBroker(), new BrokerWorkloads(), new WireWorkloads(), new PeerWorkloads(), new ShopWorkload()];

if (args is [PacerProcess.Command, ..]) return await PacerProcess.MainAsync(args);

var arguments = args.ToList();
var quick = arguments.Remove("--quick") | arguments.Remove("quick");
var outDir = TakeOption(arguments, "--out") ?? Path.Combine(RepoRoot(), "bench", "results");
var scratch = TakeOption(arguments, "--scratch") ?? Path.Combine(RepoRoot(), "bench", ".scratch");
arguments.Remove("all");
var unknown = arguments.Where(a => workloads.All(w => w.Name != a)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"Unknown workload(s): {string.Join(", ", unknown)}. Known: all, quick, {string.Join(", ", workloads.Select(w => w.Name))}.");
    return 2;
}
var selected = arguments.Count == 0 ? workloads : workloads.Where(w => arguments.Contains(w.Name)).ToArray();

Directory.CreateDirectory(scratch);
var all = new List<Figure>();
var settings = new BenchSettings(quick, scratch, all);
var run = RunInfo.Capture(settings, selected.Select(w => w.Name).ToList());
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };

var errors = new List<string>();
var total = Stopwatch.StartNew();
foreach (var workload in selected)
{
    Console.WriteLine($"== {workload.Name}: {workload.Description}");
    var progress = new Progress<string>(message => Console.WriteLine($"   {total.Elapsed:mm\\:ss} {message}"));
    try
    {
        var figures = await workload.RunAsync(settings, progress, cancel.Token);
        foreach (var f in figures) Console.WriteLine($"   {f.System,-12} {f.Metric,-40} {f.Value,14:N1} {f.Unit}");
        ResultWriter.WriteWorkload(outDir, quick ? $"{workload.Name}.quick" : workload.Name, run, figures);
        all.AddRange(figures);
    }
    catch (Exception ex) when (ex is not OperationCanceledException)
    {
        errors.Add($"{workload.Name}: {ex.GetType().Name}: {ex.Message}");
        Console.Error.WriteLine($"   {workload.Name} failed: {ex}");
    }
}

var table = ResultWriter.WriteMarkdown(outDir, run, all, errors);
Console.WriteLine($"== done in {total.Elapsed:mm\\:ss}; table: {table}");
return errors.Count == 0 ? 0 : 1;

static string? TakeOption(List<string> arguments, string name)
{
    var i = arguments.IndexOf(name);
    if (i < 0) return null;
    if (i + 1 >= arguments.Count) throw new ArgumentException($"{name} needs a value.");
    var value = arguments[i + 1];
    arguments.RemoveRange(i, 2);
    return Path.GetFullPath(value);
}

static string RepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Shop.sln"))) return dir.FullName;
    }
    return Directory.GetCurrentDirectory();
}
