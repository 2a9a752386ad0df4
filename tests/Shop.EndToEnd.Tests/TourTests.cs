using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Shop.EndToEnd.Tests;

/// <summary>
/// Runs docs/tour.md against the whole AppHost, so every command the tour shows is known to work.
/// </summary>
/// <remarks>
/// The conventions (also stated at the top of the tour):
/// <list type="bullet">
/// <item>Every <c>```sh</c> block is run, in document order, by bash with <c>set -e</c> (no
/// pipefail: <c>| head</c> may end a writer early), stdout and stderr merged. Blocks share one
/// environment: whatever a block exports is there for the next one. A block fails the test when it
/// exits non-zero or runs longer than <see cref="BlockTimeout"/>.</item>
/// <item>A <c>```text</c> block right after a <c>```sh</c> block (only blank lines between) is its
/// expected output: every non-blank line of it must appear, in order, each inside a later output
/// line than the one before. Fragments, then, not the whole output: ids, times and sizes differ
/// from run to run and are left out of the expected text.</item>
/// <item>A <c>```sh</c> block whose first line starts with <c># not run by the tour test</c> is
/// skipped: starting the AppHost (this fixture does it) and nothing else.</item>
/// <item>Before running, the fixed addresses of <c>dotnet run</c> are replaced by this run's, in
/// commands and expected text alike: <c>localhost:9092</c> (Kafka), <c>localhost:5080</c>
/// (storefront), <c>localhost:5081</c> (broker console), <c>localhost:5082</c> (mail catcher),
/// <c>AppHost/data/</c> (the fixture's data folder) and <c>/tmp/shop-tour</c> (the tour's scratch
/// folder, a fresh temporary one here).</item>
/// <item>BROKER_PASSWORD is set from the fixture's admin password. The tour's first block only
/// reads user secrets when it is unset (<c>${BROKER_PASSWORD:-$(dotnet user-secrets …)}</c>), so
/// that block runs here too, without the user secrets that exist only on a developer's machine.</item>
/// </list>
/// </remarks>
public sealed class TourTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    private static readonly TimeSpan BlockTimeout = TimeSpan.FromSeconds(150);

    private const string SkipMarker = "# not run by the tour test";

    public sealed record TourBlock(int Line, string Commands, string? Expected);

    [Fact]
    public async Task Every_command_block_of_the_tour_runs_and_prints_what_the_tour_says()
    {
        var blocks = Parse(await File.ReadAllTextAsync(TourPath()));
        Assert.True(blocks.Count(b => b.Expected is not null) >= 10, "The tour should show what its commands print.");

        var scratch = Directory.CreateTempSubdirectory("shop-tour-");
        var state = Path.Combine(scratch.FullName, ".tour-env");
        try
        {
            foreach (var block in blocks.Where(b => !b.Commands.StartsWith(SkipMarker, StringComparison.Ordinal)))
            {
                var commands = Localize(block.Commands, scratch.FullName);
                var (exitCode, output) = await RunAsync(commands, state, scratch.FullName);
                var expected = block.Expected is null ? null : Localize(block.Expected, scratch.FullName);
                var failure = exitCode != 0 ? $"exited with {exitCode}"
                    : expected is not null && MissingLine(expected, output) is { } missing ? $"printed no line containing \"{missing}\" (in order)"
                    : null;
                Assert.True(failure is null,
                    $"docs/tour.md, block at line {block.Line} {failure}.\n--- block ---\n{commands}\n--- output ---\n{output}\n--- expected ---\n{expected ?? "(exit 0 only)"}");
            }
        }
        finally
        {
            try { scratch.Delete(recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public void Expected_output_is_matched_line_by_line_in_order()
    {
        const string output = "a 1\nb 2\nc 3\n";
        Assert.Null(MissingLine("a\n\nc 3", output));
        Assert.Equal("a", MissingLine("c\na", output));
        Assert.Equal("d", MissingLine("b\nd", output));
    }

    [Fact]
    public void Sh_blocks_are_paired_with_the_text_block_that_follows_them()
    {
        var blocks = Parse("intro\n```sh\necho hi\n```\n\n```text\nhi\n```\nprose\n```sh\ntrue\n```\n```json\n{}\n```\n```text\nnot expected\n```\n");
        Assert.Equal([new TourBlock(2, "echo hi\n", "hi\n"), new TourBlock(10, "true\n", null)], blocks);
    }

    private static string TourPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var tour = Path.Combine(dir.FullName, "docs", "tour.md");
            if (File.Exists(tour) && File.Exists(Path.Combine(dir.FullName, "Shop.sln"))) return tour;
        }
        throw new FileNotFoundException("docs/tour.md not found above the test's directory.");
    }

    /// <summary>The <c>```sh</c> blocks with the <c>```text</c> block right after each, if any.</summary>
    public static List<TourBlock> Parse(string markdown)
    {
        var lines = markdown.ReplaceLineEndings("\n").Split('\n');
        var fences = new List<(int Line, string Info, string Body)>();
        var betweenIsBlank = new List<bool>();
        var lastEnd = -1;
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("```", StringComparison.Ordinal)) continue;
            var start = i;
            var body = new StringBuilder();
            for (i++; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++) body.Append(lines[i]).Append('\n');
            betweenIsBlank.Add(lastEnd >= 0 && lines[(lastEnd + 1)..start].All(string.IsNullOrWhiteSpace));
            fences.Add((start + 1, lines[start][3..].Trim(), body.ToString()));
            lastEnd = i;
        }
        var blocks = new List<TourBlock>();
        for (var f = 0; f < fences.Count; f++)
        {
            if (fences[f].Info != "sh") continue;
            var hasExpected = f + 1 < fences.Count && fences[f + 1].Info == "text" && betweenIsBlank[f + 1];
            blocks.Add(new TourBlock(fences[f].Line, fences[f].Body, hasExpected ? fences[f + 1].Body : null));
        }
        return blocks;
    }

    /// <summary>The first expected line not found in order, or null when all are.</summary>
    public static string? MissingLine(string expected, string output)
    {
        var outputLines = output.ReplaceLineEndings("\n").Split('\n');
        var next = 0;
        foreach (var want in expected.ReplaceLineEndings("\n").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0))
        {
            while (next < outputLines.Length && !outputLines[next].Contains(want, StringComparison.Ordinal)) next++;
            if (next == outputLines.Length) return want;
            next++;
        }
        return null;
    }

    /// <summary>The fixed addresses of <c>dotnet run</c> replaced by this run's.</summary>
    private string Localize(string text, string scratch) => text
        .Replace("localhost:9092", shop.BrokerAddress, StringComparison.Ordinal)
        .Replace("localhost:5080", shop.WebShop.BaseAddress!.Authority, StringComparison.Ordinal)
        .Replace("localhost:5081", shop.BrokerConsole.BaseAddress!.Authority, StringComparison.Ordinal)
        .Replace("localhost:5082", shop.Mail.BaseAddress!.Authority, StringComparison.Ordinal)
        .Replace("AppHost/data/", shop.DataDir + "/", StringComparison.Ordinal)
        .Replace("/tmp/shop-tour", scratch, StringComparison.Ordinal);

    /// <summary>Runs one block in the environment the blocks before it left behind, and saves what it exports.</summary>
    private async Task<(int ExitCode, string Output)> RunAsync(string commands, string state, string workDir)
    {
        var script = new StringBuilder()
            .AppendLine("exec 2>&1")
            .AppendLine($"[ -f '{state}' ] && . '{state}'")
            .AppendLine("set -e")
            .Append(commands)
            .AppendLine($"export -p > '{state}'")
            .ToString();
        var start = new ProcessStartInfo("bash", ["--noprofile", "--norc", "-c", script])
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
        };
        start.Environment["BROKER_PASSWORD"] = shop.Password("admin");
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(BlockTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, await output + $"\n(killed after {BlockTimeout.TotalSeconds} s)");
        }
        return (process.ExitCode, Regex.Replace(await output, @"\x1b\[[0-9;]*m", ""));
    }
}
