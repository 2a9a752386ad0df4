using Shop.ProtocolGen;

namespace Shop.Broker.Tests.Protocol;

/// <summary>A fact that runs only where the Kafka message schemas are (beside the repository).</summary>
public sealed class SchemasPresentFactAttribute : FactAttribute
{
    public static string Root => ProtocolGenerator.FindRepositoryRoot(AppContext.BaseDirectory);

    public static string Schemas => ProtocolGenerator.DefaultSchemaDirectory(Root);

    public SchemasPresentFactAttribute()
    {
        if (!Directory.Exists(Schemas)) Skip = $"Kafka message schemas not found at {Schemas}";
    }
}

public sealed class GeneratedMessagesTests
{
    [SchemasPresentFact]
    public void Committed_messages_are_what_the_generator_writes_from_the_schemas()
    {
        var committed = ProtocolGenerator.DefaultOutputDirectory(SchemasPresentFactAttribute.Root);
        var fresh = Directory.CreateTempSubdirectory("protocol-gen-").FullName;
        try
        {
            ProtocolGenerator.WriteAll(SchemasPresentFactAttribute.Schemas, fresh);
            var expected = Directory.GetFiles(fresh, "*.cs").Select(Path.GetFileName).Order().ToList();
            var actual = Directory.GetFiles(committed, "*.cs").Select(Path.GetFileName).Order().ToList();
            Assert.Equal(expected, actual);
            var stale = expected.Where(f => File.ReadAllText(Path.Combine(fresh, f!)) != File.ReadAllText(Path.Combine(committed, f!))).ToList();
            Assert.True(stale.Count == 0, $"Stale generated messages ({string.Join(", ", stale)}): run `{ProtocolGenerator.Command}`.");
        }
        finally
        {
            Directory.Delete(fresh, recursive: true);
        }
    }
}
