"""What the provider knows of the Apple Music API: resources, ids, codes, paging, listing rules, checks."""
