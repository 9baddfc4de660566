"""The file side: formats, Parquet, locations and their atomic writers, snapshots, change logs."""
