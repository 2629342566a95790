"""absa: aspect-based sentiment analysis. Each module of this package says in its first line what it is for."""
