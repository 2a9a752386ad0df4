namespace Shop.ProtocolGen;

/// <summary>A schema version range: "3+", "1-4", "2" or "none".</summary>
public readonly record struct VersionSpan(short Min, short Max)
{
    public static readonly VersionSpan None = new(1, 0);

    public bool IsNone => Min > Max;

    public bool Contains(short version) => version >= Min && version <= Max;

    public VersionSpan Intersect(VersionSpan other)
    {
        var span = new VersionSpan(Math.Max(Min, other.Min), Math.Min(Max, other.Max));
        return IsNone || other.IsNone || span.IsNone ? None : span;
    }

    public static VersionSpan Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text == "none") return None;
        if (text.EndsWith('+')) return new(short.Parse(text[..^1]), short.MaxValue);
        var dash = text.IndexOf('-');
        return dash < 0 ? new(short.Parse(text), short.Parse(text)) : new(short.Parse(text[..dash]), short.Parse(text[(dash + 1)..]));
    }
}
