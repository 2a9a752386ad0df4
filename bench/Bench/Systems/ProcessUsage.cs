namespace Shop.Bench.Systems;

/// <summary>
/// CPU and memory of the shop's processes, from /proc: CPU as a share of the whole machine (all
/// cores) over an interval, memory as resident set size. Processes are found by their command line.
/// </summary>
public sealed class ProcessUsage
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    private readonly Dictionary<string, int> _pids;
    private Dictionary<string, long> _ticks = [];
    private DateTime _since;

    private ProcessUsage(Dictionary<string, int> pids) => _pids = pids;

    /// <summary>
    /// Finds each named process by a fragment of its command line (e.g. "/Broker/bin/"), among the
    /// processes started after this one: a mail catcher left running from an earlier experiment was
    /// once measured as the shop's (the AppHost's orchestrator detaches its processes from ours, so
    /// being our descendant cannot tell them apart).
    /// </summary>
    public static ProcessUsage Find(IReadOnlyDictionary<string, string> commandLineFragments)
    {
        var pids = new Dictionary<string, int>();
        var ourStart = StartTicks(Environment.ProcessId);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || StartTicks(pid) < ourStart) continue;
            string commandLine;
            try { commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' '); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            // The program itself, not the `dotnet run` that started it.
            if (commandLine.StartsWith("dotnet run", StringComparison.Ordinal) || commandLine.Contains(" run --project", StringComparison.Ordinal)) continue;
            // A broker the tests or the bench started themselves (BrokerProcess names its data folder
            // on the command line; the AppHost's broker gets it from the environment): a stray one
            // was once measured as the shop's.
            if (commandLine.Contains("--Broker:DataDir=", StringComparison.Ordinal)) continue;
            foreach (var (name, fragment) in commandLineFragments)
            {
                if (commandLine.Contains(fragment, StringComparison.Ordinal) && !pids.ContainsKey(name)) pids[name] = pid;
            }
        }
        return new ProcessUsage(pids);
    }

    public IEnumerable<string> Names => _pids.Keys.Order();

    /// <summary>The whole machine's busy share, beside the named processes: whether the CPU is what caps a workload.</summary>
    public const string Machine = "machine, all processes";

    /// <summary>
    /// The share the hypervisor gave to other machines while ours wanted to run (/proc/stat's steal,
    /// inside <see cref="Machine"/>): on a shared host a run that was slower all over shows it here.
    /// </summary>
    public const string Stolen = "machine, stolen by the host";

    /// <summary>This process: the load it generates and what it reads back to time it.</summary>
    public const string Client = "bench client";

    /// <summary>The named processes and this one.</summary>
    private IEnumerable<KeyValuePair<string, int>> Measured => _pids.Append(new(Client, Environment.ProcessId));

    public void Start()
    {
        _ticks = Measured.ToDictionary(p => p.Key, p => CpuTicks(p.Value));
        (_machineBusy, _machineStolen, _machineTotal) = MachineTicks();
        _since = DateTime.UtcNow;
    }

    private long _machineBusy, _machineStolen, _machineTotal;

    /// <summary>
    /// Percent of the machine's CPU (all cores) each process used since <see cref="Start"/>, with
    /// <see cref="Client"/>, <see cref="Machine"/> (every process, the AppHost's and the system's too)
    /// and <see cref="Stolen"/>.
    /// </summary>
    public Dictionary<string, double> CpuPercent()
    {
        var seconds = (DateTime.UtcNow - _since).TotalSeconds;
        var percent = Measured.ToDictionary(p => p.Key,
            p => (CpuTicks(p.Value) - _ticks.GetValueOrDefault(p.Key)) / TicksPerSecond / seconds / Environment.ProcessorCount * 100);
        var (busy, stolen, total) = MachineTicks();
        percent[Machine] = total > _machineTotal ? 100.0 * (busy - _machineBusy) / (total - _machineTotal) : 0;
        percent[Stolen] = total > _machineTotal ? 100.0 * (stolen - _machineStolen) / (total - _machineTotal) : 0;
        return percent;
    }

    /// <summary>Busy, stolen and total ticks of all cores, from /proc/stat's first line (idle and iowait count as not busy).</summary>
    private static (long Busy, long Stolen, long Total) MachineTicks()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..].Select(long.Parse).ToArray();
        var total = fields.Take(8).Sum(); // user nice system idle iowait irq softirq steal (guest time is inside user)
        return (total - fields[3] - fields[4], fields[7], total);
    }

    public Dictionary<string, double> ResidentMegabytes() => _pids.ToDictionary(p => p.Key, p => Resident(p.Value) / 1e6);

    private static long CpuTicks(int pid) =>
        StatFields(pid) is { } fields ? long.Parse(fields[11]) + long.Parse(fields[12]) : 0; // utime, stime (fields 14 and 15 of the line)

    /// <summary>When the process started, in ticks since boot (field 22 of its stat line); a gone process sorts first.</summary>
    private static long StartTicks(int pid) => StatFields(pid) is { } fields ? long.Parse(fields[19]) : long.MinValue;

    /// <summary>The fields of /proc/pid/stat after the command name (which may hold spaces); null if the process is gone.</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static long Resident(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
