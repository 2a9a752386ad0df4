namespace Shop.ProtocolGen;

/// <summary>The Read and Write methods: one statement (or block) per field, tagged fields last.</summary>
public sealed partial class MessageEmitter
{
    private IEnumerable<FieldSchema> TaggedFields(IEnumerable<FieldSchema> fields) =>
        fields.Where(f => !f.TaggedVersions.Intersect(f.Versions).Intersect(_message.ValidVersions).IsNone).OrderBy(f => f.Tag);

    private void EmitRead(string className, IReadOnlyList<FieldSchema> fields)
    {
        _code.Line();
        _code.Open($"public static {className} Read(ref KafkaReader reader, short version)");
        if (IsFlexibleMessage) _code.Line("var flexible = IsFlexible(version);");
        _code.Line($"var result = new {className}();");
        foreach (var field in fields)
        {
            var when = When(FixedVersions(field));
            if (when == "false") continue;
            if (when != "true") _code.Open($"if ({when})");
            EmitReadValue(field, "result." + field.Name, "reader", Compact(field), scoped: when != "true");
            if (when != "true") _code.Close();
        }
        if (IsFlexibleMessage)
        {
            var tagged = TaggedFields(fields).ToList();
            if (tagged.Count == 0)
            {
                _code.Line("if (flexible) reader.SkipTaggedFields();");
            }
            else
            {
                _code.Open("if (flexible)");
                _code.Line("var taggedCount = reader.ReadUVarint();");
                _code.Open("for (var t = 0u; t < taggedCount; t++)");
                _code.Line("var tag = reader.ReadUVarint();");
                _code.Line("var field = reader.ReadTaggedField();");
                _code.Open("switch (tag)");
                foreach (var field in tagged)
                {
                    var when = When(field.TaggedVersions.Intersect(field.Versions));
                    _code.Line(when == "true" ? $"case {field.Tag}:" : $"case {field.Tag} when {when}:");
                    _code.OpenBlock();
                    EmitReadValue(field, "result." + field.Name, "field", "true", scoped: true);
                    _code.Line("break;");
                    _code.Close();
                }
                _code.Line("// Tags this schema does not know (a newer peer's additions) are skipped, as the protocol intends.");
                _code.Close();
                _code.Close();
                _code.Close();
            }
        }
        _code.Line("return result;");
        _code.Close();
    }

    private void EmitWrite(IReadOnlyList<FieldSchema> fields)
    {
        _code.Line();
        _code.Open("public void Write(KafkaWriter writer, short version)");
        if (IsFlexibleMessage) _code.Line("var flexible = IsFlexible(version);");
        foreach (var field in fields)
        {
            // A field absent from the version is not sent, whatever its value (Kafka would throw for a non-ignorable one).
            var when = When(FixedVersions(field));
            if (when == "false") continue;
            if (when != "true") _code.Open($"if ({when})");
            EmitWriteValue(field, field.Name, "writer", Compact(field));
            if (when != "true") _code.Close();
        }
        if (IsFlexibleMessage)
        {
            var tagged = TaggedFields(fields).ToList();
            if (tagged.Count == 0)
            {
                _code.Line("if (flexible) writer.WriteEmptyTaggedFields();");
            }
            else
            {
                // A tagged field is sent only when it differs from its default.
                string Sent(FieldSchema f) => And(When(f.TaggedVersions.Intersect(f.Versions)), IsSet(f));
                _code.Open("if (flexible)");
                _code.Line("var taggedCount = 0;");
                foreach (var field in tagged) _code.Line($"if ({Sent(field)}) taggedCount++;");
                _code.Line("writer.WriteUVarint((uint)taggedCount);");
                foreach (var field in tagged)
                {
                    _code.Open($"if ({Sent(field)})");
                    _code.Line("var field = new KafkaWriter();");
                    EmitWriteValue(field, field.Name, "field", "true");
                    _code.Line($"writer.WriteTaggedField({field.Tag}, field);");
                    _code.Close();
                }
                _code.Close();
            }
        }
        _code.Close();
    }

    /// <summary>Compact (flexible) encoding of this field: the message's, unless the field overrides it (RequestHeader's ClientId).</summary>
    private string Compact(FieldSchema field)
    {
        if (!IsFlexibleMessage) return "false";
        if (field.FlexibleVersions is not { } own) return "flexible";
        var when = When(own.Intersect(_message.FlexibleVersions));
        return when == "false" ? "false" : And("flexible", when);
    }

    /// <summary>Where a null value is allowed on the wire: "true", "false" or a version condition.</summary>
    private string NullWhen(FieldSchema field)
    {
        var present = field.Versions.Intersect(_message.ValidVersions);
        var nullable = field.NullableVersions.Intersect(present);
        return nullable.IsNone ? "false" : nullable == present ? "true" : When(nullable);
    }

    private string IsSet(FieldSchema field)
    {
        var name = field.Name;
        var init = Initializer(field);
        if (field.IsArray) return init is null ? $"{name} is not null" : $"{name} is {{ Count: > 0 }}";
        if (field.IsStruct) return $"{name} is not null";
        return field.Type switch
        {
            "string" => init is null ? $"{name} is not null" : $"{name} != {init}",
            "bytes" or "records" => IsNullableProperty(field) ? (init is null ? $"{name} is not null" : $"{name} is {{ Length: > 0 }}") : $"{name}.Length > 0",
            "uuid" => $"{name} != Guid.Empty",
            "bool" => $"{name} != {init ?? "false"}",
            _ => $"{name} != {init ?? "0"}",
        };
    }

    private static string ScalarRead(string type) => type switch
    {
        "bool" => "ReadBool()",
        "int8" => "ReadInt8()",
        "int16" => "ReadInt16()",
        "uint16" => "ReadUInt16()",
        "int32" => "ReadInt32()",
        "int64" => "ReadInt64()",
        "float64" => "ReadFloat64()",
        "uuid" => "ReadUuid()",
        _ => throw new InvalidOperationException($"not a scalar: {type}"),
    };

    private static string ScalarWrite(string type) => type switch
    {
        "bool" => "WriteBool",
        "int8" => "WriteInt8",
        "int16" => "WriteInt16",
        "uint16" => "WriteUInt16",
        "int32" => "WriteInt32",
        "int64" => "WriteInt64",
        "float64" => "WriteFloat64",
        "uuid" => "WriteUuid",
        _ => throw new InvalidOperationException($"not a scalar: {type}"),
    };

    private static int MinimumSize(string type) => type switch
    {
        "int16" or "uint16" => 2,
        "int32" => 4,
        "int64" or "float64" => 8,
        "uuid" => 16,
        _ => 1,
    };

    private string ElementRead(FieldSchema field, string reader, string compact) => field.ElementType switch
    {
        "string" => $"{reader}.ReadString({compact})",
        "bytes" or "records" => $"{reader}.ReadBytes({compact})",
        var type when FieldSchema.Primitives.Contains(type) => $"{reader}.{ScalarRead(type)}",
        _ => $"{CsStructName(field)}.Read(ref {reader}, version)",
    };

    /// <summary>Reads one field into <paramref name="target"/>; <paramref name="scoped"/>: already inside a block of its own.</summary>
    private void EmitReadValue(FieldSchema field, string target, string reader, string compact, bool scoped)
    {
        var nullWhen = NullWhen(field);
        var name = field.Name;
        if (field.IsArray)
        {
            if (!scoped) _code.OpenBlock();
            _code.Line($"var count = {reader}.ReadArrayLength({compact}, {MinimumSize(field.ElementType)});");
            if (nullWhen == "false") _code.Line($"if (count < 0) throw new MalformedRequestException(\"{name} is null\");");
            else if (nullWhen != "true") _code.Line($"if (count < 0 && !({nullWhen})) throw new MalformedRequestException(\"{name} is null\");");
            if (nullWhen != "false")
            {
                _code.Line($"if (count < 0) {target} = null;");
                _code.Open("else");
            }
            _code.Line($"var items = new List<{ElementType(field)}>(count);");
            _code.Line($"for (var i = 0; i < count; i++) items.Add({ElementRead(field, reader, compact)});");
            _code.Line($"{target} = items;");
            if (nullWhen != "false") _code.Close();
            if (!scoped) _code.Close();
            return;
        }
        if (field.IsStruct)
        {
            var read = $"{CsStructName(field)}.Read(ref {reader}, version)";
            _code.Line(nullWhen switch
            {
                "false" => $"{target} = {read};",
                "true" => $"{target} = {reader}.ReadInt8() < 0 ? null : {read};",
                _ => $"{target} = {nullWhen} && {reader}.ReadInt8() < 0 ? null : {read};",
            });
            return;
        }
        if (field.Type is "string" or "bytes" or "records")
        {
            var kind = field.Type == "string" ? "String" : "Bytes";
            _code.Line(nullWhen switch
            {
                "false" => $"{target} = {reader}.Read{kind}({compact});",
                "true" => $"{target} = {reader}.ReadNullable{kind}({compact});",
                _ => $"{target} = {nullWhen} ? {reader}.ReadNullable{kind}({compact}) : {reader}.Read{kind}({compact});",
            });
            return;
        }
        _code.Line($"{target} = {reader}.{ScalarRead(field.Type)};");
    }

    private string ElementWrite(FieldSchema field, string writer, string compact) => field.ElementType switch
    {
        "string" => $"{writer}.WriteString(item, {compact});",
        "bytes" or "records" => $"{writer}.WriteBytes(item.Span, {compact});",
        var type when FieldSchema.Primitives.Contains(type) => $"{writer}.{ScalarWrite(type)}(item);",
        _ => $"item.Write({writer}, version);",
    };

    private void EmitWriteValue(FieldSchema field, string value, string writer, string compact)
    {
        var nullWhen = NullWhen(field);
        var nullableProperty = IsNullableProperty(field);
        var notNull = nullableProperty ? $"({value} ?? throw KafkaWriter.NotNullable(\"{field.Name}\", version))" : value;
        if (field.IsArray)
        {
            if (nullableProperty)
            {
                _code.Open($"if ({value} is null)");
                if (nullWhen == "true") _code.Line($"{writer}.WriteArrayLength(-1, {compact});");
                else if (nullWhen == "false") _code.Line($"throw KafkaWriter.NotNullable(\"{field.Name}\", version);");
                else
                {
                    _code.Line($"if (!({nullWhen})) throw KafkaWriter.NotNullable(\"{field.Name}\", version);");
                    _code.Line($"{writer}.WriteArrayLength(-1, {compact});");
                }
                _code.Close();
                _code.Open("else");
            }
            _code.Line($"{writer}.WriteArrayLength({value}.Count, {compact});");
            _code.Line($"foreach (var item in {value}) {ElementWrite(field, writer, compact)}");
            if (nullableProperty) _code.Close();
            return;
        }
        if (field.IsStruct)
        {
            if (nullWhen == "false")
            {
                _code.Line($"{notNull}.Write({writer}, version);");
                return;
            }
            var nullable = nullWhen == "true" ? "" : $"{nullWhen} && ";
            _code.Line($"if ({nullable}{value} is null) {writer}.WriteInt8(-1);");
            _code.Open("else");
            _code.Line(nullWhen == "true" ? $"{writer}.WriteInt8(1);" : $"if ({nullWhen}) {writer}.WriteInt8(1);");
            _code.Line($"{notNull}.Write({writer}, version);");
            _code.Close();
            return;
        }
        if (field.Type is "string" or "bytes" or "records")
        {
            var isString = field.Type == "string";
            var kind = isString ? "String" : "Bytes";
            var nonNull = isString ? notNull : $"{notNull}.Span";
            _code.Line(nullWhen switch
            {
                "false" => $"{writer}.Write{kind}({nonNull}, {compact});",
                "true" => $"{writer}.WriteNullable{kind}({value}, {compact});",
                _ => $"if ({nullWhen}) {writer}.WriteNullable{kind}({value}, {compact}); else {writer}.Write{kind}({nonNull}, {compact});",
            });
            return;
        }
        _code.Line($"{writer}.{ScalarWrite(field.Type)}({value});");
    }
}
