// filled in by the capabilities work
