using System.Text;

namespace Shop.ProtocolGen;

/// <summary>Indented C# text with '\n' line ends, so output is identical on every OS.</summary>
public sealed class CodeWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public void Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
    }

    public void Open(string line)
    {
        Line(line);
        Line("{");
        _indent++;
    }

    /// <summary>A bare block, to scope the locals of one field.</summary>
    public void OpenBlock()
    {
        Line("{");
        _indent++;
    }

    public void Close(string end = "}")
    {
        _indent--;
        Line(end);
    }

    public override string ToString() => _text.ToString();
}
