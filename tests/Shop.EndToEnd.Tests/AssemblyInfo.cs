// Each test class starts the whole AppHost; two at once on a 2-core machine only make both slow.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
