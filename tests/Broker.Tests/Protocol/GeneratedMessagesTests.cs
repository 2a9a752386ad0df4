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

    /// <summary>Any API can be added to the list later: the generator copes with every schema Kafka ships (common structs, nullable structs…).</summary>
    [SchemasPresentFact]
    public void Every_schema_in_the_folder_can_be_generated()
    {
        var schemas = Directory.GetFiles(SchemasPresentFactAttribute.Schemas, "*.json");
        Assert.NotEmpty(schemas);
        foreach (var path in schemas)
        {
            var source = new MessageEmitter(MessageSchema.Load(path)).Emit(Path.GetFileName(path));
            Assert.Contains("public static ", source);
        }
    }
}
