using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Shop.Broker.Apis;

namespace Shop.Broker.Tests;

/// <summary>The README's table of Kafka APIs and versions is the broker's own declarations, never a hand-kept copy.</summary>
public sealed class ApiVersionsTableTests
{
    private const string Start = "<!-- api-versions -->";
    private const string End = "<!-- /api-versions -->";

    [Fact]
    public void The_readme_lists_every_api_with_the_versions_the_broker_advertises()
    {
        var dataDir = Directory.CreateTempSubdirectory("api-table-").FullName;
        try
        {
            var services = new ServiceCollection().AddLogging().AddMetrics();
            services.AddBroker(new BrokerOptions { DataDir = dataDir });
            using var provider = services.BuildServiceProvider();
            var apis = provider.GetServices<KafkaApi>().OrderBy(a => a.Versions.Key).ToList();

            var table = new StringBuilder("| key | API | versions | flexible from |\n|---|---|---|---|\n");
            foreach (var api in apis)
            {
                var v = api.Versions;
                var flexible = v.FlexibleFrom <= v.Max ? v.FlexibleFrom.ToString() : "—";
                table.Append($"| {v.Key} | {api.GetType().Name[..^"Api".Length]} | {v.Min}–{v.Max} | {flexible} |\n");
            }

            var readmePath = Path.Combine(ExternalTool.RepoRoot, "README.md");
            var readme = File.ReadAllText(readmePath);
            var from = readme.IndexOf(Start, StringComparison.Ordinal) + Start.Length;
            var to = readme.IndexOf(End, StringComparison.Ordinal);
            Assert.True(from > Start.Length - 1 && to > from, $"README.md has no {Start} … {End} section");
            var expected = "\n" + table;
            if (Environment.GetEnvironmentVariable("UPDATE_README") == "1")
            {
                File.WriteAllText(readmePath, readme[..from] + expected + readme[to..]);
                return;
            }
            Assert.True(readme[from..to] == expected,
                $"README.md's API table is stale; run: UPDATE_README=1 dotnet test tests/Broker.Tests --filter FullyQualifiedName~ApiVersionsTableTests\nExpected:{expected}");
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
