namespace Shop.Bench;

/// <summary>
/// One measured number. <paramref name="Reference"/> names what it should be compared with in the
/// same run (a machine limit or a peer), <paramref name="Ratio"/> is figure / reference where that
/// means something, and <paramref name="Target"/> says what we promise, e.g. "≥ 0.30".
/// </summary>
public sealed record Figure(
    string Workload,
    string System,
    string Metric,
    double Value,
    string Unit,
    string? Reference = null,
    double? Ratio = null,
    string? Target = null,
    bool? TargetMet = null,
    string? Note = null);
