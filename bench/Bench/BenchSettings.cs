namespace Shop.Bench;

/// <summary>What a run is allowed to spend: quick mode is a CI smoke run that only checks nothing errors.</summary>
public sealed record BenchSettings(bool Quick, string ScratchDir)
{
    public int Scale(int full, int quick) => Quick ? quick : full;

    public long Scale(long full, long quick) => Quick ? quick : full;
}
