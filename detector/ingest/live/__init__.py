"""Live sources (Bluesky Jetstream, Mastodon streaming, Reddit listings, RSS/Atom and Discourse
feeds) read on background threads and handed to the pipeline in batches, with backpressure."""
