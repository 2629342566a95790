"""The ablation study: ``runner`` trains a grid, ``ledger`` keeps one row per finished run, ``selection`` summarises
the ledger and chooses configurations on validation only."""
