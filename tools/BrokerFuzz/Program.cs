using Shop.BrokerFuzz;
using SharpFuzz;

// The broker's request path under afl++, coverage-guided through SharpFuzz (see README in this
// folder). Each input is one request frame without its size prefix, as FuzzTarget takes it.
// A problem (anything but an answer, a reason to close, or a refused batch) is thrown, which afl
// records as a crash.
if (args is ["--replay", var file])
{
    using var replay = new FuzzTarget();
    var problem = await replay.RunAsync(await File.ReadAllBytesAsync(file));
    Console.WriteLine(problem ?? "handled");
    return problem is null ? 0 : 1;
}

// Instrumented broker code may only run once SharpFuzz has set up afl's coverage map: the target
// is built by the first input, inside Run.
FuzzTarget? target = null;
Fuzzer.OutOfProcess.Run(stream =>
{
    target ??= new FuzzTarget();
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    if (target.RunAsync(buffer.ToArray()).GetAwaiter().GetResult() is { } problem) throw new FuzzProblemException(problem);
});
return 0;

/// <summary>What the broker did wrong with one input.</summary>
internal sealed class FuzzProblemException(string problem) : Exception(problem);
