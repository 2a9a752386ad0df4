using Shop.ProtocolGen;

// Writes Broker/Protocol/Messages/*.cs from Kafka's JSON message schemas.
// Usage: dotnet run --project tools/ProtocolGen [-- <schema folder> [<output folder>]]
var root = ProtocolGenerator.FindRepositoryRoot(Directory.GetCurrentDirectory());
var schemas = args.Length > 0 ? Path.GetFullPath(args[0]) : ProtocolGenerator.DefaultSchemaDirectory(root);
var output = args.Length > 1 ? Path.GetFullPath(args[1]) : ProtocolGenerator.DefaultOutputDirectory(root);
if (!Directory.Exists(schemas))
{
    Console.Error.WriteLine($"Schema folder not found: {schemas}");
    return 1;
}
ProtocolGenerator.WriteAll(schemas, output);
Console.WriteLine($"Generated {ProtocolGenerator.SchemaNames.Count()} message types from {schemas} into {output}");
return 0;
